/**
 * Graceful shutdown. On SIGTERM or SIGINT the transports stop taking new requests, the requests already
 * in flight get until the deadline to finish, and long waits are told to stop a little before it so they
 * can still answer with their operation's handle (and write their audit line). The process exits once
 * nothing is in flight, or at the deadline.
 */
export class Drain {
  readonly #stop = new AbortController();
  #draining = false;
  #inFlight = 0;
  #idle: (() => void) | undefined;

  /** True once draining started: transports refuse new requests. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Aborted when waits must stop and answer with their handle. */
  get stopWaiting(): AbortSignal {
    return this.#stop.signal;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Counts one request as in flight; call the returned function (once) when it has been answered. */
  enter(): () => void {
    this.#inFlight += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#idle?.();
    };
  }

  /**
   * Starts draining and resolves when nothing is in flight ('clean') or at the deadline ('deadline').
   * Waits are stopped `answerMs` before the deadline: the time a stopped wait needs to build and send its
   * answer (a fifth of the deadline, at most 2 s).
   */
  begin(deadlineMs: number): Promise<'clean' | 'deadline'> {
    this.#draining = true;
    const answerMs = Math.min(2000, deadlineMs / 5);
    const stopTimer = setTimeout(() => this.#stop.abort(), Math.max(0, deadlineMs - answerMs));
    return new Promise((resolve) => {
      const finish = (how: 'clean' | 'deadline') => {
        clearTimeout(stopTimer);
        clearTimeout(deadline);
        this.#idle = undefined;
        this.#stop.abort();
        resolve(how);
      };
      const deadline = setTimeout(() => finish('deadline'), deadlineMs);
      this.#idle = () => finish('clean');
      if (this.#inFlight === 0) finish('clean');
    });
  }
}
