import type { Page } from '../client/index.js';
import type { Api } from './context.js';

/*
 * How an operation writes and waits. The operations say what to send, how to find the write again when its
 * answer was lost, and what to poll; the MCP layer carries them out (mcp/outcome.ts `performWrite`: one outcome
 * for every write, never a blind retry; mcp/wait.ts `waitForOperation`: progress, shared polls, cancellation)
 * and records them for the audit line.
 */

export interface WriteSpec<T> {
  /** The write as a noun phrase, for messages: "the deploy of blog/test". */
  what: string;
  /** What the handle names, for "it happened: <kind> <handle>": "deployment". */
  kind: string;
  /** Sends the write, once. */
  send: () => Promise<T>;
  /** The ID of what the write created or changed. */
  handle: (value: T) => string;
  /**
   * After an ambiguous answer: the write's effect when it is visible (as the write would have answered), else
   * null. `since` is when the write was sent, in Divio's clock (ms, with a margin): compare it with Divio's
   * timestamps through `createdSince`. Throws when it cannot look.
   */
  lookup: (since: number) => Promise<T | null>;
  /** The read tool a person or model checks with, with its arguments: "list_deployments (app blog, environment test)". */
  checkWith: string;
  /** What can be done when the write did not happen. */
  ifNotDone: string;
  /**
   * The write is an action Divio accepts and then carries out (StopEnvironment answers 202), so not seeing its
   * effect yet proves nothing: an ambiguous answer is then "could not tell", never "did not happen".
   */
  late?: boolean;
}

export interface WaitSpec<S> {
  /** Fetches the current state of the operation. */
  poll: (signal: AbortSignal) => Promise<S>;
  isDone: (state: S) => boolean;
  /** Progress value (0..total), total, and a short status message. */
  describe: (state: S) => { progress: number; total?: number; message: string };
  /** The state returned by the call that started the operation (the first poll waits one interval). */
  initial: S;
  /** Seconds to wait; 0 returns at once with the current state. */
  budgetSeconds: number;
  /**
   * Identifies the operation for poll sharing: every call waiting on the same key shares one poll per
   * interval. Defaults to the `uuid` of `initial` (each Divio operation object has its own ID).
   */
  key?: string;
}

export interface WaitOutcome<S> {
  state: S;
  finished: boolean;
  /** Why the wait stopped before the operation finished. */
  stoppedBecause?: 'budget' | 'cancelled' | 'poll-failed' | 'shutdown';
  /** When a poll failed: what went wrong (the operation itself was started and keeps going). */
  pollError?: string;
  waitedSeconds: number;
}

/** Where a write lands: what the environment write policy and the audit line need. */
export interface WriteTarget {
  app: string;
  environment: string;
  environmentUuid: string;
  productionGrade: boolean;
}

/** What the person is shown before a write, and the state the write is bound to. */
export interface ConfirmPreview {
  /** One sentence: what will happen. */
  summary: string;
  /** Plain facts the person should see before agreeing. */
  details: Record<string, string>;
  /** The state the preview showed; the action only runs while it is unchanged. */
  state: string;
  /** Used for the environment write policy. */
  target: WriteTarget;
  /** True when the call will not write anything (e.g. attaching to a running deploy): no confirmation needed. */
  noWrite?: boolean;
}

export interface Effects {
  /** Sends one write and settles its outcome (see WriteSpec). */
  write<T>(spec: WriteSpec<T>): Promise<T>;
  /** Waits for an operation with progress, at most `seconds` (the configured default when undefined). */
  wait<S>(spec: Omit<WaitSpec<S>, 'budgetSeconds'>, seconds: number | undefined): Promise<WaitOutcome<S>>;
}

/** A sentence for a result that stopped before the operation finished, naming how to follow it. */
export function stillRunning(outcome: WaitOutcome<unknown>, follow: string): string {
  const why =
    outcome.stoppedBecause === 'poll-failed'
      ? `Lost sight of it while waiting (${outcome.pollError ?? 'the API did not answer'}), but it was started.`
      : outcome.stoppedBecause === 'shutdown'
        ? 'Still running: this MCP server is shutting down, so it stopped waiting; the operation itself keeps going on Divio.'
        : 'Still running.';
  return `${why} ${follow}`;
}

/** A lookup that saw too little to tell whether the write landed. */
export class LookupIncomplete extends Error {
  override name = 'LookupIncomplete';
}

/** Items stamped at or after `since` (Divio's clock), newest first by that stamp; list order is not trusted. */
export function createdSince<T>(items: readonly T[], stamp: (item: T) => unknown, since: number): T[] {
  const at = (item: T): number => {
    const value = stamp(item);
    return typeof value === 'string' ? Date.parse(value) : Number.NaN;
  };
  return items.filter((item) => at(item) >= since).sort((a, b) => at(b) - at(a));
}

const MAX_LOOKUP_PAGES = 10;

/** Every item of a list, following `next` (same origin, checked by the client); too many to read is LookupIncomplete. */
export async function readAll<T>(api: Api, first: () => Promise<Page<T>>): Promise<T[]> {
  let page = await first();
  const items = [...page.results];
  for (let n = 1; page.next; n++) {
    if (n >= MAX_LOOKUP_PAGES) throw new LookupIncomplete(`more than ${MAX_LOOKUP_PAGES} pages to read`);
    page = await api.client.getPageByUrl<T>(page.next, undefined, api.signal);
    items.push(...page.results);
  }
  return items;
}
