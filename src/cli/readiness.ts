import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  type DivioClient,
  RateLimitError,
  TimeoutError,
} from '../client/index.js';

/** What /readyz reports: ready, or not with a fixed machine-readable reason and a sentence for people. */
export type Readiness = { ready: true } | { ready: false; reason: string; message: string };

export interface TokenCheckOptions {
  /** How long an answer is reused (default 30 s): probes every few seconds cost one API call per period. */
  ttlMs?: number;
  /** Timeout of the check request (default 5 s), below a Kubernetes probe's timeoutSeconds. */
  timeoutMs?: number;
  /** Test hook: the clock. */
  now?: () => number;
}

/*
 * Does the Divio token work? One `GET /iam/v3/me/` (`GetCurrentUser` in the API reference; Divio's CLI checks a
 * token the same way, `GetCurrentUserRequest` in `divio_cli/api_requests.py`), reused for `ttlMs`, and shared by
 * probes that arrive while it runs. The answer never carries the token or the API's wording: only a fixed
 * reason and message per kind of failure.
 */
export class DivioTokenCheck {
  readonly #client: DivioClient;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #last: { at: number; readiness: Readiness } | undefined;
  #running: Promise<Readiness> | undefined;

  constructor(client: DivioClient, opts: TokenCheckOptions = {}) {
    this.#client = client;
    this.#ttlMs = opts.ttlMs ?? 30_000;
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    this.#now = opts.now ?? Date.now;
  }

  check(): Promise<Readiness> {
    const last = this.#last;
    if (last && this.#now() - last.at < this.#ttlMs) return Promise.resolve(last.readiness);
    this.#running ??= this.#ask().then((readiness) => {
      this.#last = { at: this.#now(), readiness };
      this.#running = undefined;
      return readiness;
    });
    return this.#running;
  }

  async #ask(): Promise<Readiness> {
    try {
      await this.#client.request('GET', '/iam/v3/me/', { timeoutMs: this.#timeoutMs });
      return { ready: true };
    } catch (error) {
      return notReady(error);
    }
  }
}

function notReady(error: unknown): Readiness {
  if (error instanceof ConfigurationError)
    return {
      ready: false,
      reason: 'divio_token_missing',
      message: 'No Divio API token is configured: set DIVIO_API_TOKEN.',
    };
  if (error instanceof AuthenticationError)
    return {
      ready: false,
      reason: 'divio_token_rejected',
      message:
        'The Divio API refused the token (401/403 on GET /iam/v3/me/): it is invalid, expired or revoked. Replace DIVIO_API_TOKEN.',
    };
  // Rate limited: the token was not refused, and pulling every replica out of service would not help.
  if (error instanceof RateLimitError) return { ready: true };
  if (error instanceof ConnectionError || error instanceof TimeoutError)
    return {
      ready: false,
      reason: 'divio_unreachable',
      message: 'The Divio API could not be reached (network error or timeout) to check the token.',
    };
  return {
    ready: false,
    reason: 'divio_api_error',
    message: 'The Divio API did not confirm the token (an unexpected answer to GET /iam/v3/me/).',
  };
}
