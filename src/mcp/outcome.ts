import {
  ApiError,
  ConnectionError,
  DivioError,
  ResponseFormatError,
  ServerError,
  TimeoutError,
} from '../client/index.js';
import { createdSince, type Effects, LookupIncomplete, readAll, type WriteSpec } from '../domain/effects.js';
import { ident } from '../text/index.js';
import { ToolError } from './errors.js';
import type { AnyTool, ToolContext } from './registry.js';
import { waitForOperation } from './wait.js';

// The write helpers operations use, re-exported for the tools that still write here.
export { createdSince, LookupIncomplete, readAll, type WriteSpec };

/** The effects of one tool call: its writes go through `performWrite`, its waits through `waitForOperation`. */
export function effects(ctx: ToolContext): Effects {
  return {
    write: (spec) => performWrite(ctx, spec),
    wait: (spec, seconds) =>
      waitForOperation({ ...spec, budgetSeconds: seconds ?? ctx.config.defaultWaitSeconds }, ctx),
  };
}

/*
 * One outcome for every write. The client never re-sends a write (only GET and HEAD are retried), so a write
 * whose answer was lost, unreadable, a 5xx or late may or may not have landed. Before answering, the write is
 * looked up on the platform, and the answer is exactly one of:
 *  - it happened: the handle of what it created or changed; the tool carries on as if the write had answered;
 *  - it did not happen: nothing was changed, and what the person can do;
 *  - could not tell: which read tool to check with before trying again.
 * A write is never answered with "try again" before it was looked up. (Divio CLI `divio_cli/api_requests.py`
 * never repeats a POST either.)
 */

/** What became of a tool's write, as its audit line records it. */
export type WriteState = 'none' | 'done' | 'not_done' | 'unknown';

export interface WriteRecord {
  state: WriteState;
  /** The ID of what the write created or changed, once known. */
  handle: string | null;
  /** Set when the write's own answer was lost and the lookup found it: one sentence for the result. */
  note: string | null;
  /** The read tool that shows the write's state: what a failure after it landed points to, not a retry. */
  checkWith: string | null;
}

export function newWriteRecord(): WriteRecord {
  return { state: 'none', handle: null, note: null, checkWith: null };
}

/** A write that did not happen, or whose outcome could not be told; the message says which and what to do. */
export class WriteOutcomeError extends ToolError {
  override name = 'WriteOutcomeError';
  readonly outcome: 'not_done' | 'unknown';

  constructor(outcome: 'not_done' | 'unknown', message: string) {
    super(message);
    this.outcome = outcome;
  }
}

interface Ambiguity {
  why: string;
  /** The request may still be queued or running at Divio, so not finding it yet proves nothing. */
  late: boolean;
}

/** Why an answer leaves the write's fate open, or null when it does not. */
function ambiguity(error: unknown): Ambiguity | null {
  if (error instanceof ConnectionError && error.mayHaveReachedServer)
    return { why: 'the connection broke after the request was sent', late: false };
  if (error instanceof TimeoutError) return { why: 'no answer came in time', late: true };
  // A 504 is a gateway that stopped waiting for the API, which may still be handling the write.
  if (error instanceof ServerError)
    return { why: `Divio answered with a server error (${error.status})`, late: error.status === 504 };
  if (error instanceof ResponseFormatError)
    return { why: 'Divio answered, but the answer could not be read', late: false };
  return null;
}

/** A short account of why a lookup failed, built from the error's kind only (no platform text). */
function failure(error: unknown): string {
  if (error instanceof ApiError) return `Divio answered ${error.status}`;
  if (error instanceof TimeoutError) return 'no answer came in time';
  if (error instanceof ConnectionError) return 'Divio could not be reached';
  if (error instanceof ResponseFormatError) return 'the answer could not be read';
  if (error instanceof LookupIncomplete) return error.message;
  return 'an unexpected error';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function record(
  ctx: ToolContext,
  state: WriteState,
  handle: string | null,
  note: string | null = null,
): void {
  if (!ctx.write) return;
  ctx.write.state = state;
  if (handle !== null) ctx.write.handle = handle;
  if (note !== null) ctx.write.note = note;
}

/**
 * Sends one write and settles its outcome. Returns what the write answered, or what the lookup found when
 * its answer was lost; throws a WriteOutcomeError when it did not happen or could not be told, and rethrows
 * Divio's refusals (4xx) as they are: those say why nothing was changed.
 */
export async function performWrite<T>(ctx: ToolContext, spec: WriteSpec<T>): Promise<T> {
  const sent = ctx.clock.now();
  const offset = ctx.client.serverClockOffsetMs;
  const since = sent + (offset ?? 0) - (offset === undefined ? UNKNOWN_SKEW_MS : KNOWN_SKEW_MS);
  let open: Ambiguity | null;
  if (ctx.write) ctx.write.checkWith = spec.checkWith;
  try {
    const value = await spec.send();
    record(ctx, 'done', spec.handle(value));
    return value;
  } catch (error) {
    open = ambiguity(error);
    if (open === null) {
      if (error instanceof ConnectionError) {
        record(ctx, 'not_done', null);
        throw new WriteOutcomeError(
          'not_done',
          `${capitalise(spec.what)} did not happen: Divio could not be reached, so the request was never sent. Nothing was changed. ${spec.ifNotDone}`,
        );
      }
      // A refusal (4xx) changed nothing: Divio's own words say why.
      if (error instanceof ApiError) {
        record(ctx, 'not_done', null);
        throw error;
      }
      // Anything else (the call was cancelled or stopped while the request was under way) leaves it open.
      record(ctx, 'unknown', null);
      throw new WriteOutcomeError(
        'unknown',
        `Could not tell whether ${spec.what} happened: the call was stopped while the request was under way. Check with ${spec.checkWith} before trying again.`,
      );
    }
  }
  const why = open.why;
  const late = open.late || spec.late === true;
  let found: T | null;
  try {
    found = await spec.lookup(since);
    if (!found) {
      // A gateway can answer before the API has finished handling the write: look once more, one poll
      // interval later (inferred: Divio documents neither its gateway timeouts nor its commit timing).
      await ctx.clock.sleep(ctx.config.pollIntervalMs, ctx.signal);
      found = await spec.lookup(since);
    }
  } catch (lookupError) {
    record(ctx, 'unknown', null);
    throw new WriteOutcomeError(
      'unknown',
      `Could not tell whether ${spec.what} happened: ${why}, and looking it up failed too (${failure(lookupError)}). Check with ${spec.checkWith} before trying again.`,
    );
  }
  if (found) {
    const handle = spec.handle(found);
    record(
      ctx,
      'done',
      handle,
      `The answer to ${spec.what} was lost (${why}); looking it up showed it happened: ${spec.kind} ${ident(handle)}.`,
    );
    return found;
  }
  if (late) {
    record(ctx, 'unknown', null);
    throw new WriteOutcomeError(
      'unknown',
      `Could not tell whether ${spec.what} happened: ${why}, and it is not visible yet, but Divio may still be handling it. Check with ${spec.checkWith} in a minute, before trying again.`,
    );
  }
  record(ctx, 'not_done', null);
  throw new WriteOutcomeError(
    'not_done',
    `${capitalise(spec.what)} did not happen: ${why}, and looking it up found no trace of it since ${new Date(sent).toISOString()}. Nothing was changed. ${spec.ifNotDone}`,
  );
}

/*
 * "Created since the call" is judged in Divio's clock: the client measures its offset from the `Date` header of
 * every response. The margin covers that header's whole-second resolution. Without any `Date` header the skew
 * between the clocks is unknown, and a wide margin is the lesser evil (inferred: no source states Divio's clock
 * discipline): an earlier same-kind write of the last minute may then be taken for this one, while a narrow one
 * could miss this write and invite doing it twice.
 */
const KNOWN_SKEW_MS = 2_000;
const UNKNOWN_SKEW_MS = 60_000;

/**
 * The text of a failure that came after the write landed (a read while waiting, a bug): it says first that the
 * write happened, with its handle, so the failure never reads as an invitation to write again.
 */
export function failedAfterWrite(text: string, write: WriteRecord | undefined, error: unknown): string {
  if (!landedBefore(write, error)) return text;
  const handle = write.handle ? `: ${ident(write.handle)}` : '';
  return `The write itself happened${handle}. Do not start it again. What failed afterwards: ${text}`;
}

/**
 * Whether the call's write was sent and may have landed (done, or not settled as not done) when `error` came,
 * and `error` is not the write's own settled outcome: then advice must point to the read tool that shows it.
 */
export function mayHaveLanded(
  write: WriteRecord | undefined,
  error: unknown,
): write is WriteRecord & { checkWith: string } {
  return !!write?.checkWith && write.state !== 'not_done' && !(error instanceof WriteOutcomeError);
}

/** Whether `error` came after the call's write had landed (so the failure is not the write's own). */
export function landedBefore(write: WriteRecord | undefined, error: unknown): write is WriteRecord {
  return write?.state === 'done' && !(error instanceof WriteOutcomeError);
}

export interface AuditWho {
  app: string;
  environment: string;
  confirmed_by?: string;
}

/**
 * The one audit line of a write tool's call, whatever became of it: `outcome` is whether the tool answered
 * (`ok`) or failed (`error`), `write` whether the write happened (`done`, `not_done`, `unknown`, or `none`
 * when the call promised no write), `uuid` the handle.
 */
export function auditWrite(
  audit: (entry: Record<string, unknown>) => void,
  tool: AnyTool,
  who: AuditWho,
  write: WriteRecord,
  result: { out: unknown } | { error: unknown },
): void {
  if ('out' in result) {
    audit({
      tool: tool.name,
      ...who,
      outcome: 'ok',
      write: write.state,
      uuid: write.handle ?? tool.auditUuid?.(result.out) ?? null,
    });
    return;
  }
  const { error } = result;
  audit({
    tool: tool.name,
    ...who,
    outcome: 'error',
    // A failure before any write was sent changed nothing.
    write: write.state === 'none' ? 'not_done' : write.state,
    uuid: write.handle,
    error: error instanceof DivioError || error instanceof Error ? error.name : 'Error',
  });
}
