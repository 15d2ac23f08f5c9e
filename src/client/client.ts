import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { inline, quote } from '../text/index.js';
import { type Clock, systemClock } from './clock.js';
import { DEFAULT_USER_AGENT, resolveBaseUrl, tokenPageUrl } from './config.js';
import { type ProxySettings, proxyProblem } from './credentials.js';
import {
  ApiError,
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  CrossOriginError,
  DivioError,
  drfMessage,
  excerpt,
  type InferredPath,
  missingTokenError,
  NotFoundError,
  OperationUnavailableError,
  PermissionDeniedError,
  parseDrfError,
  RateLimitError,
  RedirectError,
  ResponseFormatError,
  redact,
  redactDeep,
  ServerError,
  TimeoutError,
  TOKEN_ENV,
  ValidationError,
} from './errors.js';
import { Resolver, type SharedCache } from './resolve.js';
import { createResources, type Resources } from './resources.js';
import { type Application, type Environment, type Page, pageSchema } from './schemas.js';
import { currentCall } from './scope.js';
import { describeTarget } from './target.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | string[] | undefined;
export type Query = Record<string, QueryValue>;

export interface RetryOptions {
  /** Retries after the first attempt (default 2). */
  maxRetries?: number | undefined;
  /** First backoff step (default 250 ms); doubles per attempt, with jitter. */
  baseDelayMs?: number | undefined;
  /** Cap for one backoff step (default 4 s). `Retry-After` is not capped by this, only by maxRetryWaitMs. */
  maxDelayMs?: number | undefined;
  /** Cap on the total time spent waiting between attempts (default 10 s). */
  maxRetryWaitMs?: number | undefined;
}

/**
 * Sees every HTTP exchange and retry (metrics). It gets the method, the API path below the base URL (no
 * query, no host) and the status, never headers or bodies, so the token cannot reach it.
 */
export interface ClientObserver {
  /** One exchange: its HTTP status, or 'network', 'timeout' or 'cancelled' when none arrived. */
  exchange(method: HttpMethod, apiPath: string, status: number | string, seconds: number): void;
  /** A GET about to be sent again after a retryable failure. */
  retry(method: HttpMethod, apiPath: string): void;
}

export interface DivioClientOptions {
  token?: string | undefined;
  baseUrl?: string | undefined;
  zone?: string | undefined;
  /** Per-request timeout covering connect, headers and body (default 30 s). */
  timeoutMs?: number | undefined;
  /** Injected undici dispatcher (tests use MockAgent). When omitted the client owns a keep-alive Agent. */
  dispatcher?: Dispatcher | undefined;
  /** HTTP(S) proxy to reach the API through (from HTTP_PROXY/HTTPS_PROXY/NO_PROXY); ignored with a dispatcher. */
  proxy?: ProxySettings | undefined;
  retry?: RetryOptions | undefined;
  /** Cache lifetime for slug resolution (default 30 s). */
  resolveTtlMs?: number | undefined;
  /** A cache shared by replicas (Redis) for resolutions; each process keeps its own in front of it. */
  sharedCache?: SharedCache | undefined;
  userAgent?: string | undefined;
  /** Largest response body read, in bytes (default 20 MiB); a bigger one fails with ResponseFormatError. */
  maxResponseBytes?: number | undefined;
  /** Reports exchanges and retries (see ClientObserver). */
  observer?: ClientObserver | undefined;
  /** Time between retries and for Retry-After dates (default: the system clock; tests pass a fake one). */
  clock?: Clock | undefined;
}

export interface RequestOptions<T> {
  query?: Query | undefined;
  body?: unknown;
  signal?: AbortSignal | undefined;
  schema?: z.ZodType<T> | undefined;
  timeoutMs?: number | undefined;
  /**
   * Set on paths no public source shows (inferred from the API reference's operation names): a 404 or 405 there
   * means this API has no such route, and is answered with OperationUnavailableError instead of "not found".
   */
  inferred?: InferredPath | undefined;
}

/** Options every resource method takes as its last parameter. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

const IDEMPOTENT = new Set(['GET', 'HEAD']);
/** Item schema of pages read without one; a single instance so its page schema is built once. */
const ANY_ITEM = z.unknown();
const REDIRECT_STATUSES = new Set([301, 302, 307, 308]);
const MAX_REDIRECTS = 3;

/** A path with its ID segments masked, so one learned redirect covers every object of that route. */
function routeShape(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => (/^(?=.*\d)[0-9a-z-]{20,}$/i.test(segment) || /^\d+$/.test(segment) ? '{id}' : segment))
    .join('/');
}

function withTrailingSlash(url: URL): URL {
  const next = new URL(url);
  next.pathname = `${url.pathname}/`;
  return next;
}
// Where Divio's CLI checks a token (`GetCurrentUserRequest`, `divio_cli/client.py`). The CLI reports both 401 and
// 403 as "Login failed. Invalid token specified" (`divio_cli/api_requests.py`); here a 403 on this path means the
// token was refused, and a 403 elsewhere is looked into with one call to this path.
const TOKEN_CHECK_PATH = '/iam/v3/me/';

/** One HTTP exchange as read off the wire. */
interface Exchange {
  status: number;
  text: string;
  headers: Dispatcher.ResponseData['headers'];
}
// Codes for which undici never got a socket to the server, so nothing can have been sent.
const NOT_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const LONG_DAY = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7: the preferred IMF-fixdate and the two obsolete forms a recipient must still accept.
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^(?:${LONG_DAY}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^(?:${DAY}) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** Milliseconds since the epoch for a valid calendar date and time in UTC, else undefined (no rollover). */
function utc(year: number, month: string, day: number, h: number, m: number, s: number): number | undefined {
  const mon = MONTHS.indexOf(month);
  if (h > 23 || m > 59 || s > 60) return undefined;
  const ms = Date.UTC(year, mon, day, h, m, Math.min(s, 59));
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== mon || d.getUTCDate() !== day) return undefined;
  return ms;
}

/** Parse an HTTP-date (IMF-fixdate, RFC 850 or asctime form) into epoch milliseconds; anything else is undefined. */
export function parseHttpDate(value: string, now = Date.now()): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(Number(m[3]), m[2] ?? '', Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850_DATE.exec(value);
  if (m) {
    // A two-digit year more than 50 years in the future means the most recent past year with those digits.
    let year = Math.floor(new Date(now).getUTCFullYear() / 100) * 100 + Number(m[3]);
    if (year > new Date(now).getUTCFullYear() + 50) year -= 100;
    return utc(year, m[2] ?? '', Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return utc(Number(m[6]), m[1] ?? '', Number(m[2]?.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return undefined;
}

/**
 * Parse `Retry-After` into milliseconds: non-negative integer seconds or an HTTP-date, nothing else. Anything
 * malformed counts as absent, so the caller falls back to its normal backoff instead of retrying at once.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  const date = parseHttpDate(trimmed, now);
  if (date === undefined) return undefined;
  return Math.max(0, date - now);
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

class TimeoutSignal extends Error {}

const DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024;

/** Read a response body as UTF-8, giving up (and dropping the connection) once it passes `max` bytes. */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  max: number,
  label: string,
): Promise<string> {
  const tooLarge = () =>
    new ResponseFormatError(`${label} returned a response body larger than the ${max}-byte limit; not read.`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export class DivioClient implements Resources {
  readonly baseUrl: string;
  readonly hasToken: boolean;
  /** Where a person creates a token for the configured zone; every token message names it. */
  readonly tokenPageUrl: string;
  readonly #origin: string;
  /** Path prefix of the base URL without a trailing slash ('' at the root, '/divio' behind a proxy). */
  readonly #basePath: string;
  readonly #token: string | undefined;
  /**
   * The injected dispatcher, or the client's own, made at the first request: undici (a megabyte of code) is
   * loaded then, not when the server starts, so `tools/list` is answered before it is needed.
   */
  #dispatcher: Dispatcher | Promise<Dispatcher> | undefined;
  readonly #makeDispatcher: () => Dispatcher | Promise<Dispatcher>;
  readonly #ownsDispatcher: boolean;
  #closed = false;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #userAgent: string;
  readonly #retry: { [K in keyof RetryOptions]-?: number };
  readonly #clock: Clock;
  readonly #resolver: Resolver;
  readonly #observer: ClientObserver | undefined;
  #serverClockOffsetMs: number | undefined;
  readonly #observers = new Set<(error: DivioError | undefined) => void>();
  /** Route shapes (IDs masked) whose slashless GET the server answered with a permanent redirect to `path/`. */
  readonly #appendSlash = new Set<string>();

  readonly organisations: Resources['organisations'];
  readonly users: Resources['users'];
  readonly applications: Resources['applications'];
  readonly environments: Resources['environments'];
  readonly environmentMetricMetadata: Resources['environmentMetricMetadata'];
  readonly applicationActivities: Resources['applicationActivities'];
  readonly deployments: Resources['deployments'];
  readonly backups: Resources['backups'];
  readonly serviceInstances: Resources['serviceInstances'];
  readonly serviceInstanceBackups: Resources['serviceInstanceBackups'];
  readonly backupRestores: Resources['backupRestores'];
  readonly serviceInstanceBackupRestores: Resources['serviceInstanceBackupRestores'];
  readonly backupDownloads: Resources['backupDownloads'];
  readonly backupDownloadServiceInstances: Resources['backupDownloadServiceInstances'];
  readonly environmentVariables: Resources['environmentVariables'];
  readonly domains: Resources['domains'];
  readonly cronjobs: Resources['cronjobs'];
  readonly regions: Resources['regions'];
  readonly services: Resources['services'];
  readonly repositories: Resources['repositories'];

  constructor(opts: DivioClientOptions = {}) {
    this.baseUrl = resolveBaseUrl({ baseUrl: opts.baseUrl, zone: opts.zone });
    this.tokenPageUrl = tokenPageUrl({ baseUrl: this.baseUrl, zone: opts.zone });
    this.#origin = new URL(this.baseUrl).origin;
    this.#basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    const token = opts.token?.trim();
    this.#token = token ? token : undefined;
    this.hasToken = this.#token !== undefined;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    this.#retry = {
      maxRetries: opts.retry?.maxRetries ?? 2,
      baseDelayMs: opts.retry?.baseDelayMs ?? 250,
      maxDelayMs: opts.retry?.maxDelayMs ?? 4_000,
      maxRetryWaitMs: opts.retry?.maxRetryWaitMs ?? 10_000,
    };
    this.#clock = opts.clock ?? systemClock;
    this.#observer = opts.observer;
    if (opts.dispatcher) {
      const injected = opts.dispatcher;
      this.#makeDispatcher = () => injected;
      this.#ownsDispatcher = false;
    } else {
      const pool = { keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 16 };
      const proxy = opts.proxy;
      // Behind a company proxy (Divio's CLI applies HTTP_PROXY/HTTPS_PROXY explicitly too); NO_PROXY honoured.
      // The proxy addresses are checked now, as undici's proxy agent would when made: a mistyped one stops the
      // server at start-up instead of failing every request later.
      const problem = proxyProblem(proxy);
      if (problem) throw new ConfigurationError(problem);
      this.#makeDispatcher = async () => {
        // undici is CommonJS: its exports are the module's default, in Node and in the bundle's own chunk alike.
        const { Agent, EnvHttpProxyAgent } = (await import('undici')).default;
        return proxy ? new EnvHttpProxyAgent({ ...pool, ...proxy }) : new Agent(pool);
      };
      this.#ownsDispatcher = true;
    }
    this.#resolver = new Resolver(this, opts.resolveTtlMs ?? 30_000, (text) => redact(text, this.#token), {
      cache: opts.sharedCache,
      // Entries are scoped to this API and token (hashed): replicas of another deployment, with another
      // token, sharing the same Redis never see what this token can see.
      scope: createHash('sha256')
        .update(`${this.baseUrl}\0${this.#token ?? ''}`)
        .digest('base64url')
        .slice(0, 22),
    });

    const r = createResources(this);
    this.organisations = r.organisations;
    this.users = r.users;
    this.applications = r.applications;
    this.environments = r.environments;
    this.environmentMetricMetadata = r.environmentMetricMetadata;
    this.applicationActivities = r.applicationActivities;
    this.deployments = r.deployments;
    this.backups = r.backups;
    this.serviceInstances = r.serviceInstances;
    this.serviceInstanceBackups = r.serviceInstanceBackups;
    this.backupRestores = r.backupRestores;
    this.serviceInstanceBackupRestores = r.serviceInstanceBackupRestores;
    this.backupDownloads = r.backupDownloads;
    this.backupDownloadServiceInstances = r.backupDownloadServiceInstances;
    this.environmentVariables = r.environmentVariables;
    this.domains = r.domains;
    this.cronjobs = r.cronjobs;
    this.regions = r.regions;
    this.services = r.services;
    this.repositories = r.repositories;
  }

  // -------------------------------------------------------------------------------------------------------
  // The one choke point.

  /**
   * Send one API request. `path` is relative to the base URL (build it with the `path` template) and must
   * start with `/`. Returns the parsed JSON (validated by `schema` when given), or undefined for an empty body.
   */
  request<T = unknown>(method: HttpMethod, apiPath: string, opts: RequestOptions<T> = {}): Promise<T> {
    if (!apiPath.startsWith('/')) {
      return Promise.reject(new DivioError(`API path must start with '/': ${apiPath}`, 'invalid_path'));
    }
    const url = new URL(this.baseUrl + apiPath);
    appendQuery(url, opts.query);
    return this.#send(method, url, opts);
  }

  /** The absolute URL of a list endpoint with its query (for readers that page by URL, see order.ts). */
  listUrl(apiPath: string, query?: Query): string {
    const url = new URL(this.baseUrl + apiPath);
    appendQuery(url, query);
    return url.toString();
  }

  /** One page of a `{count, next, previous, results}` collection. */
  getPage<T = unknown>(
    apiPath: string,
    query?: Query,
    schema?: z.ZodType<T>,
    signal?: AbortSignal,
  ): Promise<Page<T>> {
    return this.request('GET', apiPath, {
      query,
      signal,
      schema: pageSchema(schema ?? (ANY_ITEM as z.ZodType<T>)),
    }) as Promise<Page<T>>;
  }

  /**
   * Fetch a page by an absolute `next`/`previous` URL the API handed out (or a cursor the tool layer decoded).
   * The URL must have the configured origin: the token is never sent anywhere else.
   */
  getPageByUrl<T = unknown>(url: string, schema?: z.ZodType<T>, signal?: AbortSignal): Promise<Page<T>> {
    let target: URL;
    try {
      target = this.checkedUrl(url);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#send('GET', target, {
      signal,
      schema: pageSchema(schema ?? (ANY_ITEM as z.ZodType<T>)),
    }) as Promise<Page<T>>;
  }

  /** GET an absolute same-origin URL with a caller-chosen schema (used for the logs cursor). */
  getByUrl<T>(url: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    let target: URL;
    try {
      target = this.checkedUrl(url);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#send('GET', target, { signal, schema });
  }

  /** Parse a link and refuse it unless it points at the configured API origin and under its path prefix. */
  checkedUrl(url: string): URL {
    let target: URL;
    try {
      target = new URL(url, `${this.baseUrl}/`);
    } catch {
      throw new DivioError('Invalid pagination URL.', 'invalid_cursor');
    }
    if (target.origin !== this.#origin) {
      throw new CrossOriginError(redact(target.origin, this.#token), this.#origin);
    }
    // Behind a proxy (`https://proxy.example/divio`) the same origin may serve other things: stay under the prefix.
    const base = this.#basePath;
    if (base && target.pathname !== base && !target.pathname.startsWith(`${base}/`)) {
      throw new CrossOriginError(redact(target.origin + target.pathname, this.#token), this.baseUrl);
    }
    if (target.username || target.password) throw new DivioError('Invalid pagination URL.', 'invalid_cursor');
    return target;
  }

  /** Iterate every item of a paginated collection, following `next` links (same origin only). */
  async *paginate<T = unknown>(
    apiPath: string,
    query?: Query,
    schema?: z.ZodType<T>,
    signal?: AbortSignal,
  ): AsyncGenerator<T, void, undefined> {
    let page = await this.getPage(apiPath, query, schema, signal);
    const seen = new Set<string>();
    for (;;) {
      yield* page.results;
      const next = page.next;
      // A server bug that repeats a link must not loop forever.
      if (!next || seen.has(next)) return;
      seen.add(next);
      page = await this.getPageByUrl(next, schema, signal);
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Resolution (see resolve.ts).

  resolveApplication(ref: string, signal?: AbortSignal): Promise<Application> {
    return this.#resolver.resolveApplication(ref, signal);
  }

  resolveEnvironment(app: Application | string, ref: string, signal?: AbortSignal): Promise<Environment> {
    return this.#resolver.resolveEnvironment(app, ref, signal);
  }

  listApplicationsCached(signal?: AbortSignal): Promise<Application[]> {
    return this.#resolver.listApplicationsCached(signal);
  }

  listEnvironmentsCached(appUuid: string, signal?: AbortSignal): Promise<Environment[]> {
    return this.#resolver.listEnvironmentsCached(appUuid, signal);
  }

  /**
   * This machine's time as the client keeps it (its clock: the system's, or the fake one tests pass). Operations
   * read "now" here, so windows and ages agree with the client's waits and retries.
   */
  now(): number {
    return this.#clock.now();
  }

  /**
   * Divio's clock minus this machine's, from the `Date` header of the latest response (RFC 9110 §6.6.1: an
   * origin server with a clock sends one); undefined until a response carried one. Whole seconds: the header
   * has no finer resolution. Used to match "created since this call" against Divio's own timestamps.
   */
  get serverClockOffsetMs(): number | undefined {
    return this.#serverClockOffsetMs;
  }

  /**
   * Calls `fn` after every request (retries included) with its outcome: undefined when it succeeded, the error
   * it failed with otherwise. The server uses it to say once on its log that the token was refused or the API
   * cannot be reached. Returns the function that stops it.
   */
  observe(fn: (error: DivioError | undefined) => void): () => void {
    this.#observers.add(fn);
    return () => this.#observers.delete(fn);
  }

  invalidateCache(): void {
    this.#resolver.invalidate();
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Only the client's own dispatcher is closed, and only if a request made it.
    if (this.#ownsDispatcher && this.#dispatcher) await (await this.#dispatcher).close();
  }

  /**
   * The dispatcher, made at the first request. Making it sends nothing: a failure there is "not connected"
   * (the write did not happen), and it is not kept, so the next request tries again.
   */
  async #getDispatcher(label: string): Promise<Dispatcher> {
    if (this.#closed) throw new ClientClosedError(`${label}: this client was closed.`, false);
    this.#dispatcher ??= this.#makeDispatcher();
    try {
      return await this.#dispatcher;
    } catch (err) {
      this.#dispatcher = undefined;
      const detail = inline(redact(err instanceof Error ? err.message : String(err), this.#token), 300);
      throw new ConnectionError(`Could not start the HTTP client for ${label}: ${detail}.`, false);
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Internals.

  async #send<T>(method: HttpMethod, url: URL, opts: RequestOptions<T>): Promise<T> {
    if (!this.#token) throw missingTokenError(this.tokenPageUrl);
    const signal = opts.signal;
    if (signal?.aborted) throw signal.reason;
    const retryable = IDEMPOTENT.has(method);
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.#once(method, url, opts);
        this.#notify(undefined);
        return out;
      } catch (err) {
        if (err instanceof DivioError) err.attempts = attempt + 1;
        if (!retryable || attempt >= this.#retry.maxRetries || !isRetryable(err)) {
          if (err instanceof DivioError) this.#notify(err);
          throw err;
        }
        const delay = this.#delayFor(attempt, err);
        // Never wait past the budget: hand the error back at once instead (e.g. a long Retry-After).
        if (waited + delay > this.#retry.maxRetryWaitMs) throw err;
        this.#observer?.retry(method, this.#relative(url.pathname));
        await this.#clock.sleep(delay, signal);
        if (signal?.aborted) throw signal.reason;
        waited += delay;
      }
    }
  }

  #notify(error: DivioError | undefined): void {
    for (const fn of this.#observers) fn(error);
  }

  #delayFor(attempt: number, err: unknown): number {
    if (err instanceof ApiError && err.retryAfterMs !== undefined) return err.retryAfterMs;
    const step = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** attempt);
    // "Equal jitter": at least half the step, so retries never bunch up at zero.
    return Math.round(step / 2 + Math.random() * (step / 2));
  }

  /**
   * One attempt: the request, then at most MAX_REDIRECTS same-origin redirects for a GET (each hop its own
   * exchange), then the answer. Divio's CLI sends three GETs without a trailing slash (`deployments/{id}/logs`,
   * `deployments/{id}/environment-variables`, `backup-download-service-instances/{id}` in
   * `divio_cli/api_requests.py`) and Python's `requests` follows the server's redirect for them; whichever
   * spelling the server routes, a GET here arrives the same way. A write is never re-sent to another address.
   */
  async #once<T>(method: HttpMethod, url: URL, opts: RequestOptions<T>): Promise<T> {
    // A route whose slashless spelling was permanently redirected to the slashed one before is asked at the
    // slashed one directly: a 301/308 may be remembered (RFC 9110 sections 15.4.2 and 15.4.9; RFC 9111 section
    // 4.2.2 makes them cacheable by default), and each redirect costs a whole round trip to the API.
    const shape = method === 'GET' && !url.pathname.endsWith('/') ? routeShape(url.pathname) : undefined;
    const learned = shape !== undefined && this.#appendSlash.has(shape);
    let target = learned ? withTrailingSlash(url) : url;
    for (let hops = 0; ; hops++) {
      const res = await this.#exchange(method, target, opts);
      if (learned && hops === 0 && res.status === 404 && shape !== undefined) {
        // The API no longer routes the slashed spelling: forget it and ask as Divio's CLI does (a GET, safe to repeat).
        this.#appendSlash.delete(shape);
        return this.#once(method, url, opts);
      }
      if (!REDIRECT_STATUSES.has(res.status)) return this.#answer(method, target, res, opts);
      const next = this.#redirectTarget(method, target, res, hops);
      if (
        shape !== undefined &&
        hops === 0 &&
        !learned &&
        (res.status === 301 || res.status === 308) &&
        next.pathname === `${target.pathname}/` &&
        next.search === target.search
      )
        this.#appendSlash.add(shape);
      target = next;
    }
  }

  /** Send one HTTP request and read its whole (capped) body. */
  async #exchange<T>(method: HttpMethod, url: URL, opts: RequestOptions<T>): Promise<Exchange> {
    const headers: Record<string, string> = {
      authorization: `Token ${this.#token}`,
      'user-agent': this.#userAgent,
      accept: 'application/json',
    };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }

    // Made (undici loaded) before the request's clock starts: the first request's timeout and latency are its own.
    const dispatcher = await this.#getDispatcher(`${method} ${url.pathname}`);
    const controller = new AbortController();
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const timer = setTimeout(() => controller.abort(new TimeoutSignal()), timeoutMs);
    const userSignal = opts.signal;
    const onUserAbort = () => controller.abort(userSignal?.reason);
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    const label = `${method} ${url.pathname}`;
    const call = currentCall();
    if (call) call.apiRequests++;
    const started = performance.now();
    const observe = (status: number | string) =>
      this.#observer?.exchange(
        method,
        this.#relative(url.pathname),
        status,
        (performance.now() - started) / 1000,
      );

    let status: number | undefined;
    let text: string;
    let resHeaders: Dispatcher.ResponseData['headers'];
    try {
      const res = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers,
        body: body ?? null,
        signal: controller.signal,
      });
      status = res.statusCode;
      observe(status);
      resHeaders = res.headers;
      const date = parseHttpDate(headerValue(res.headers, 'date') ?? '');
      if (date !== undefined) this.#serverClockOffsetMs = date - this.#clock.now();
      const declared = Number(headerValue(res.headers, 'content-length'));
      if (declared > this.#maxResponseBytes) {
        res.body.destroy();
        throw new ResponseFormatError(
          `${label} returned a response body larger than the ${this.#maxResponseBytes}-byte limit (${declared} bytes); not read.`,
        );
      }
      text = await readCapped(res.body, this.#maxResponseBytes, label);
    } catch (err) {
      if (status === undefined)
        observe(
          userSignal?.aborted
            ? 'cancelled'
            : controller.signal.reason instanceof TimeoutSignal
              ? 'timeout'
              : 'network',
        );
      if (err instanceof ResponseFormatError) throw err;
      if (userSignal?.aborted) throw userSignal.reason;
      if (controller.signal.reason instanceof TimeoutSignal) {
        // We cannot tell whether the server got the request; assume it may have (safe for writes).
        throw new TimeoutError(`${label} timed out after ${timeoutMs} ms.`, true);
      }
      throw this.#connectionError(err, label);
    } finally {
      clearTimeout(timer);
      userSignal?.removeEventListener('abort', onUserAbort);
    }
    return { status, text, headers: resHeaders };
  }

  async #answer<T>(method: HttpMethod, url: URL, res: Exchange, opts: RequestOptions<T>): Promise<T> {
    const { status, text } = res;
    const label = `${method} ${url.pathname}`;
    if (opts.inferred && (status === 404 || status === 405)) {
      const body = redactDeep(parseOrExcerpt(text, this.#token), this.#token);
      throw new OperationUnavailableError(status, body, opts.inferred, { method, path: url.pathname });
    }
    if (status === 403) throw await this.#forbidden(method, url, res, opts);
    if (status < 200 || status >= 300) throw this.#apiError(status, res, method, url, opts.body);

    if (text.trim() === '') {
      if (opts.schema) {
        const parsed = opts.schema.safeParse(undefined);
        if (parsed.success) return parsed.data;
        throw new ResponseFormatError(`${label} returned an empty body where JSON was expected.`);
      }
      return undefined as T;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ResponseFormatError(
        `${label} returned a body that is not JSON (status ${status}): ${excerpt(text, this.#token, 120)}`,
      );
    }
    if (!opts.schema) return json as T;
    const parsed = opts.schema.safeParse(json);
    if (!parsed.success) {
      throw new ResponseFormatError(
        `${label} returned an unexpected response shape: ${inline(redact(formatIssues(parsed.error), this.#token), 500)}`,
      );
    }
    return parsed.data;
  }

  #connectionError(err: unknown, label: string): ConnectionError {
    const code =
      err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    const rawMessage = err instanceof Error ? err.message : String(err);
    const detail = excerpt(rawMessage, this.#token, 160);
    const mayHaveReached = !(code && NOT_CONNECTED_CODES.has(code));
    // The cause is rebuilt from redacted text: the original error object is never attached.
    const cause = new Error(code ? `${code}: ${detail}` : detail);
    return new ConnectionError(
      `Could not reach the Divio API at ${this.#origin} (${label}): ${code ?? detail}.`,
      mayHaveReached,
      { cause },
    );
  }

  /** The path below the base URL's prefix, as the API names it (`/apps/v3/...`). */
  #relative(pathname: string): string {
    return this.#basePath && pathname.startsWith(`${this.#basePath}/`)
      ? pathname.slice(this.#basePath.length)
      : pathname;
  }

  /**
   * Where a redirect answering `method from` leads, if this client may follow it: only a GET, to the same
   * origin and under the base path (so the token goes nowhere else), for at most MAX_REDIRECTS hops.
   */
  #redirectTarget(method: HttpMethod, from: URL, res: Exchange, hops: number): URL {
    const token = this.#token;
    const where = `${method} ${from.pathname}`;
    const location = headerValue(res.headers, 'location');
    const to = location ? ` to ${excerpt(location, token, 200)}` : '';
    const fail = (message: string) =>
      new RedirectError(res.status, undefined, redact(message, token), { method, path: from.pathname });
    if (method !== 'GET') {
      throw fail(
        `${where} was answered with a redirect (${res.status}${to}) instead of being carried out (a redirect means the API did not act on it at this address). Writes never follow redirects, so it was not sent again. This server's path for it does not match the API's: report it.`,
      );
    }
    if (!location) throw fail(`${where} was answered with a redirect (${res.status}) without a Location.`);
    if (hops >= MAX_REDIRECTS) {
      throw fail(
        `${where} was redirected more than ${MAX_REDIRECTS} times; the last redirect${to} was not followed.`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, from);
    } catch {
      throw fail(`${where} was answered with a redirect to an invalid address.`);
    }
    const base = this.#basePath;
    const underBase = !base || next.pathname === base || next.pathname.startsWith(`${base}/`);
    if (next.origin !== this.#origin || !underBase || next.username || next.password) {
      throw fail(
        `${where} was redirected${to}, away from the configured API (${this.baseUrl}); not followed, so the token was not sent there.`,
      );
    }
    return next;
  }

  /**
   * A 403. On the token check itself it means the token was refused; elsewhere one call to the token check
   * tells a refused token (401/403 there too) from a token whose account lacks access to this object.
   */
  async #forbidden<T>(
    method: HttpMethod,
    url: URL,
    res: Exchange,
    opts: RequestOptions<T>,
  ): Promise<ApiError> {
    let tokenRejected = method === 'GET' && this.#relative(url.pathname) === TOKEN_CHECK_PATH;
    if (!tokenRejected) {
      try {
        const check = await this.#exchange('GET', new URL(this.baseUrl + TOKEN_CHECK_PATH), {
          signal: opts.signal,
        });
        tokenRejected = check.status === 401 || check.status === 403;
      } catch {
        if (opts.signal?.aborted) throw opts.signal.reason;
        // The check itself failed: report the 403 as a permission error, the more cautious reading.
      }
    }
    return this.#apiError(403, res, method, url, opts.body, tokenRejected);
  }

  #apiError(
    status: number,
    res: Exchange,
    method: string,
    url: URL,
    requestBody: unknown,
    tokenRejected = false,
  ): ApiError {
    const token = this.#token;
    const text = res.text;
    const pathname = url.pathname;
    let body: unknown;
    try {
      body = redactDeep(JSON.parse(text), token);
      // Keep structured bodies only while they are small; a huge one is reduced to an excerpt.
      if (text.length > 4000) body = excerpt(JSON.stringify(body), token, 500);
    } catch {
      body = excerpt(text, token);
    }
    const parts = parseDrfError(body);
    const serverMessage = drfMessage(parts) ?? (typeof body === 'string' && body ? body : undefined);
    const where = `${method} ${pathname}`;
    const details = {
      method,
      path: pathname,
      retryAfterMs: parseRetryAfter(headerValue(res.headers, 'retry-after'), this.#clock.now()),
      tokenPage: this.tokenPageUrl,
    };
    // Divio's own words are platform text: quoted on one line, escapes and invisible characters removed.
    const said = serverMessage ? `: ${quote(serverMessage, 500)}` : '';
    const make = (Kind: typeof ApiError, message: string) =>
      new Kind(status, body, redact(message, token), details);
    if (status === 400) return make(ValidationError, `Invalid request (400) for ${where}${said}`);
    if (status === 401 || (status === 403 && tokenRejected)) {
      return make(
        AuthenticationError,
        `Authentication failed (${status}${status === 403 ? ` for ${where} and the token check` : ''})${said}. The Divio API token is missing, invalid or expired: create a token at ${this.tokenPageUrl} and set ${TOKEN_ENV}.`,
      );
    }
    if (status === 403) {
      const target = describeTarget(method, this.#relative(pathname), url.searchParams, requestBody);
      return make(
        PermissionDeniedError,
        `Permission denied (403) for ${where}${said}. The token is valid, but its account may not access ${target}: check that account's access (organisation membership and role) in the Divio control panel, or use a token of an account that has it.`,
      );
    }
    if (status === 404) return make(NotFoundError, `Not found (404): ${where}${said}`);
    if (status === 409) return make(ConflictError, `Conflict (409) for ${where}${said}`);
    if (status === 429) return make(RateLimitError, `Rate limited (429) on ${where}${said}`);
    if (status >= 500) return make(ServerError, `Divio API server error (${status}) on ${where}${said}`);
    return make(ApiError, `Unexpected HTTP ${status} for ${where}${said}`);
  }
}

function parseOrExcerpt(text: string, token: string | undefined): unknown {
  try {
    return text.length > 4000 ? excerpt(text, token, 500) : JSON.parse(text);
  } catch {
    return excerpt(text, token);
  }
}

/** A request on a client that was closed: nothing was sent, and sending again will not help. */
class ClientClosedError extends ConnectionError {}

// Timeouts are deliberately not retried: the attempt already used the caller's whole time budget, and three
// back-to-back 30 s waits would outlast any MCP client's patience.
function isRetryable(err: unknown): boolean {
  if (err instanceof ClientClosedError) return false;
  if (err instanceof ConnectionError) return true;
  if (err instanceof ApiError) return err.status === 408 || err.status === 429 || err.status >= 500;
  return false;
}

function appendQuery(url: URL, query: Query | undefined): void {
  if (!query) return;
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) url.searchParams.append(key, item);
    else url.searchParams.append(key, String(value));
  }
}
