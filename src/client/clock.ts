/**
 * The time everything that waits reads: the client between retries, the wait helper between polls, the
 * write-outcome lookup before its second look. Production uses `systemClock`; tests pass a fake one
 * (test/helpers/clock.ts) shared with the sandbox, so simulated minutes of a deploy take no real time.
 * Network timeouts are not on it: they guard against real sockets and stay on real timers.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time, or as soon as `signal` aborts. Never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};
