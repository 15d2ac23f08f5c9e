import type { ToolContext } from './registry.js';

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
}

export interface WaitOutcome<S> {
  state: S;
  finished: boolean;
  /** Why the wait stopped before the operation finished. */
  stoppedBecause?: 'budget' | 'cancelled' | 'poll-failed';
  /** When a poll failed: what went wrong (the operation itself was started and keeps going). */
  pollError?: string;
  waitedSeconds: number;
}

/** A sentence for a result that stopped before the operation finished, naming how to follow it. */
export function stillRunning(outcome: WaitOutcome<unknown>, follow: string): string {
  const why =
    outcome.stoppedBecause === 'poll-failed'
      ? `Lost sight of it while waiting (${outcome.pollError ?? 'the API did not answer'}), but it was started.`
      : 'Still running.';
  return `${why} ${follow}`;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits for a long-running Divio operation (deploy, backup, restore, download).
 * Sends progress while it waits, stops at once when the request is cancelled, and
 * gives up at the budget, returning the last state so the caller can hand back a
 * handle: the operation itself is never lost.
 */
export async function waitForOperation<S>(spec: WaitSpec<S>, ctx: ToolContext): Promise<WaitOutcome<S>> {
  const started = Date.now();
  const deadline = started + spec.budgetSeconds * 1000;
  const elapsed = () => Math.round((Date.now() - started) / 100) / 10;
  let state = spec.initial;
  for (;;) {
    const { progress, total, message } = spec.describe(state);
    await ctx.progress(progress, total, message);
    if (spec.isDone(state)) return { state, finished: true, waitedSeconds: elapsed() };
    if (ctx.signal.aborted)
      return { state, finished: false, stoppedBecause: 'cancelled', waitedSeconds: elapsed() };
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { state, finished: false, stoppedBecause: 'budget', waitedSeconds: elapsed() };
    await sleep(Math.min(ctx.config.pollIntervalMs, remaining), ctx.signal);
    if (ctx.signal.aborted)
      return { state, finished: false, stoppedBecause: 'cancelled', waitedSeconds: elapsed() };
    try {
      state = await spec.poll(ctx.signal);
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
