import type { Clock } from '../../src/client/index.js';

/*
 * A fake clock for the sandbox, the server's waits and the client's retries (they share one in a harness), so
 * a test never sleeps for simulated time: a four-second deploy polled every 50 ms costs eighty round trips on
 * loopback, not four seconds.
 *
 * - auto (the default): time stands still until something sleeps; then, once the event loop has run what was
 *   already queued, the earliest sleeper is woken and the clock jumps to its end. Sleepers are woken one at a
 *   time, in order of their end (ties in order of arrival), so concurrent waits interleave as they would in
 *   real time. A test that only calls and reads the result needs nothing more.
 * - manual: time moves only when the test says so (`advance`, `wake`). For tests that act while an operation
 *   is under way (cancel it, shut down, check it is still pending): `await clock.sleeping()` returns once the
 *   code under test is waiting on the clock, so nothing races a timer.
 */
export interface FakeClockOptions {
  /** Epoch ms the clock starts at (default: the real time when it is made, so relative times stay plausible). */
  start?: number;
  /** Wake sleepers by itself (default true); false: only `advance` and `wake` move time. */
  auto?: boolean;
}

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #auto: boolean;
  #seq = 0;
  #sleepers: Sleeper[] = [];
  #scheduled = false;
  #watchers: { count: number; resolve: () => void }[] = [];
  /** Every sleep asked for, in ms, in the order asked (sleeps cut short by an abort included). */
  readonly slept: number[] = [];

  constructor(opts: FakeClockOptions = {}) {
    this.#now = opts.start ?? Date.now();
    this.#auto = opts.auto ?? true;
  }

  /** Bound, so `clock.now` can be handed out as a `() => number` (the sandbox's `now`). */
  readonly now = (): number => this.#now;

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.slept.push(ms);
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const sleeper: Sleeper = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#remove(sleeper);
        sleeper.wake();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      for (const w of this.#watchers.filter((x) => this.#sleepers.length >= x.count)) {
        this.#watchers.splice(this.#watchers.indexOf(w), 1);
        w.resolve();
      }
      if (this.#auto) this.#schedule();
    });
  }

  /** How many sleeps are waiting on this clock. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Resolves once at least `count` sleeps are waiting (at once if they already are). */
  sleeping(count = 1): Promise<void> {
    if (this.#sleepers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#watchers.push({ count, resolve }));
  }

  /** Switches between auto and manual (see the module comment). */
  setAuto(auto: boolean): void {
    this.#auto = auto;
    if (auto && this.#sleepers.length > 0) this.#schedule();
  }

  /** Wakes the earliest sleeper, moving time to its end. Returns false when nobody sleeps. */
  wake(): boolean {
    const next = this.#sleepers.shift();
    if (!next) return false;
    this.#now = Math.max(this.#now, next.at);
    next.wake();
    return true;
  }

  /**
   * Moves time forward by `ms`, waking every sleeper that ends on the way in order, and letting the code each
   * one resumes run (what it queues without I/O) before the next is woken.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#sleepers[0];
      if (!next || next.at > target) break;
      this.wake();
      await turn();
    }
    this.#now = Math.max(this.#now, target);
  }

  #remove(sleeper: Sleeper): void {
    const i = this.#sleepers.indexOf(sleeper);
    if (i >= 0) this.#sleepers.splice(i, 1);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate runs after the I/O callbacks already due, so work that is ready goes first.
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#auto) return;
      this.wake();
      if (this.#sleepers.length > 0) this.#schedule();
    });
  }
}

/** One turn of the event loop: pending promise callbacks and due I/O callbacks run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Bounded real-time wait for something another party does on its own schedule (a cancellation crossing a
 * transport, a child process writing a line): checks `cond` every 10 ms, at most `ms` in all. Not for
 * simulated time, which the fake clock moves.
 */
export async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 10) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}
