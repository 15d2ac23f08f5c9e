import type { Clock } from '../client/index.js';
import { stillRunning, type WaitOutcome, type WaitSpec } from '../domain/effects.js';
import type { ToolContext } from './registry.js';

export type { WaitOutcome, WaitSpec };
export { stillRunning };

/*
 * One poll per operation per interval, however many calls wait on it. Every waiter keeps its own loop
 * (its own budget, cancellation and progress), but its poll goes through this table: a poll already in
 * flight for the operation is joined, and a result younger than the poll interval is reused. Fifty calls
 * attached to one deployment therefore cost Divio one GET per interval, not fifty. A joined poll is only
 * aborted when every waiter on it has gone. The table is per Divio client, so two clients (two accounts,
 * or two sandboxes in one test process) never see each other's results.
 */
interface SharedPoll {
  promise: Promise<unknown>;
  /** When the poll settled successfully; undefined while in flight. */
  settledAt?: number;
  controller: AbortController;
  waiters: number;
}

const sharedPolls = new WeakMap<object, Map<string, SharedPoll>>();

function operationKey(spec: WaitSpec<unknown>): string | undefined {
  if (spec.key) return spec.key;
  const initial = spec.initial as { uuid?: unknown } | null;
  return initial && typeof initial.uuid === 'string' ? initial.uuid : undefined;
}

async function pollShared<S>(
  clock: Clock,
  scope: object,
  key: string | undefined,
  poll: (signal: AbortSignal) => Promise<S>,
  freshMs: number,
  signal: AbortSignal,
): Promise<S> {
  if (key === undefined) return poll(signal);
  let table = sharedPolls.get(scope);
  if (!table) {
    table = new Map();
    sharedPolls.set(scope, table);
  }
  const now = clock.now();
  for (const [k, entry] of table)
    if (entry.settledAt !== undefined && now - entry.settledAt >= freshMs) table.delete(k);
  let entry = table.get(key);
  if (!entry) {
    const controller = new AbortController();
    const created: SharedPoll = { controller, waiters: 0, promise: poll(controller.signal) };
    created.promise.then(
      () => {
        created.settledAt = clock.now();
      },
      () => {
        // A failed poll is never reused: the next waiter asks again.
        if (table.get(key) === created) table.delete(key);
      },
    );
    table.set(key, created);
    entry = created;
  }
  if (entry.settledAt !== undefined) return entry.promise as Promise<S>;
  const joined = entry;
  joined.waiters += 1;
  const leave = () => {
    joined.waiters -= 1;
    if (joined.waiters === 0 && joined.settledAt === undefined) {
      joined.controller.abort();
      if (table.get(key) === joined) table.delete(key);
    }
  };
  try {
    return await new Promise<S>((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new Error('aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      (joined.promise as Promise<S>).then(resolve, reject).finally(() => {
        signal.removeEventListener('abort', onAbort);
      });
    });
  } finally {
    leave();
  }
}

/**
 * Waits for a long-running Divio operation (deploy, backup, restore, download).
 * Sends progress while it waits, stops at once when the request is cancelled, stops early when the
 * server starts shutting down (`ctx.stopWaiting`), and gives up at the budget, returning the last state
 * so the caller can hand back a handle: the operation itself is never lost.
 */
export async function waitForOperation<S>(spec: WaitSpec<S>, ctx: ToolContext): Promise<WaitOutcome<S>> {
  const done = ctx.telemetry?.waitStarted(ctx.tool);
  try {
    return await waitLoop(spec, ctx);
  } finally {
    done?.();
  }
}

async function waitLoop<S>(spec: WaitSpec<S>, ctx: ToolContext): Promise<WaitOutcome<S>> {
  const { clock } = ctx;
  const started = clock.now();
  const deadline = started + spec.budgetSeconds * 1000;
  const elapsed = () => Math.round((clock.now() - started) / 100) / 10;
  const key = operationKey(spec as WaitSpec<unknown>);
  // Sleeping wakes on cancellation and on shutdown; the poll itself is only aborted by cancellation.
  const wake = ctx.stopWaiting ? AbortSignal.any([ctx.signal, ctx.stopWaiting]) : ctx.signal;
  let state = spec.initial;
  const stopped = (): WaitOutcome<S> | null =>
    ctx.signal.aborted
      ? { state, finished: false, stoppedBecause: 'cancelled', waitedSeconds: elapsed() }
      : ctx.stopWaiting?.aborted
        ? { state, finished: false, stoppedBecause: 'shutdown', waitedSeconds: elapsed() }
        : null;
  for (;;) {
    const { progress, total, message } = spec.describe(state);
    await ctx.progress(progress, total, message);
    if (spec.isDone(state)) return { state, finished: true, waitedSeconds: elapsed() };
    const before = stopped();
    if (before) return before;
    const remaining = deadline - clock.now();
    if (remaining <= 0) return { state, finished: false, stoppedBecause: 'budget', waitedSeconds: elapsed() };
    await clock.sleep(Math.min(ctx.config.pollIntervalMs, remaining), wake);
    const after = stopped();
    if (after) return after;
    try {
      state = await pollShared(clock, ctx.client, key, spec.poll, ctx.config.pollIntervalMs, ctx.signal);
    } catch (error) {
      // The operation was started before this wait; losing sight of it must not lose it. Hand back the last
      // state (with its UUID) instead of an error that would invite starting it again.
      if (ctx.signal.aborted)
        return { state, finished: false, stoppedBecause: 'cancelled', waitedSeconds: elapsed() };
      const pollError = error instanceof Error ? error.message : String(error);
      return { state, finished: false, stoppedBecause: 'poll-failed', pollError, waitedSeconds: elapsed() };
    }
  }
}
