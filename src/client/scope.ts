import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one tool call did, for its log line. The registry runs each call inside `withCall`; the client adds
 * every HTTP request it sends (retries and redirect hops included) to the call it was made for.
 * AsyncLocalStorage keeps concurrent calls apart.
 */
export interface CallStats {
  apiRequests: number;
  /** The kind of error the call ended with (set by the error boundary), if it failed. */
  error?: string | undefined;
}

const scope = new AsyncLocalStorage<CallStats>();

export function withCall<T>(stats: CallStats, fn: () => T): T {
  return scope.run(stats, fn);
}

/** The stats of the call the current code runs for, if any. */
export function currentCall(): CallStats | undefined {
  return scope.getStore();
}
