import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { type AppliedFault, type FaultController, Faults } from './faults.js';
import type { Ctx, Result } from './http.js';
import { matchRoute } from './routes.js';
import {
  type BackupOutcome,
  DEFAULT_TIMINGS,
  type DeployOutcome,
  type ListOrder,
  type RestoreOutcome,
  SandboxState,
  type SandboxTimings,
} from './state.js';
import { HttpError, normaliseUuid } from './util.js';

export type { AppliedFault, FaultConfig, FaultController, FaultRule } from './faults.js';
export type { LogEntry } from './logs.js';
export type { BackupOutcome, ListOrder, RestoreOutcome, SandboxState, SandboxTimings } from './state.js';
export { APP_SLUGS } from './state.js';
export { uuidFromName } from './util.js';

/**
 * How the sandbox spells the routes Divio's CLI requests without a trailing slash. Which one the live API does
 * is not known (inferred): the CLI's slashless GETs work there, either through a redirect or a route without
 * the slash. `append-slash` (default): every route ends in `/` and a slashless path is answered `301` to the
 * slashed one, as Django's CommonMiddleware does with APPEND_SLASH. `cli-slashless`: those three routes are
 * served without the slash, their slashed spelling is answered `301` to the slashless one, and every other
 * route behaves as with `append-slash`.
 */
export type SlashMode = 'append-slash' | 'cli-slashless';

export interface SandboxOptions {
  /** 0 (default) picks an ephemeral port */
  port?: number | undefined;
  /** default 127.0.0.1 */
  host?: string | undefined;
  /** default 'sandbox-token' */
  token?: string | undefined;
  timings?: Partial<SandboxTimings> | undefined;
  /** clock speed multiplier: timings are divided by it */
  speed?: number | undefined;
  /**
   * The clock the state machines read and fault delays (`latencyMs`, `slowBody`) wait on; tests pass a fake
   * one shared with the server so nothing sleeps for simulated time (default: real time).
   */
  clock?: SandboxClock | undefined;
  /** ms epoch clock, for tests; overrides `clock.now` (e.g. a sandbox whose clock runs ahead of the server's) */
  now?: (() => number) | undefined;
  /** Route spelling of the CLI's slashless GETs (default `append-slash`). */
  slashes?: SlashMode | undefined;
  /**
   * Status of a refused token (default 401 with `WWW-Authenticate: Token`, DRF's TokenAuthentication). 403 is
   * what DRF answers when the first authentication class sends no `WWW-Authenticate` (e.g. session first);
   * Divio's CLI handles both the same way, so a client must too.
   */
  invalidTokenStatus?: 401 | 403 | undefined;
  /** order of the backup, restore and download lists (default newest first; see `ListOrder`) */
  listOrder?: ListOrder | undefined;
  /** largest page any list answers with, whatever `page_size`/`limit` asks (default: the usual 100) */
  maxPageSize?: number | undefined;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  body: unknown;
  status: number;
  at: string;
  /** the fault applied to this request, if any (status 0 means no response was sent) */
  fault?: string;
}

export interface Sandbox {
  /** API base URL without trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  token: string;
  requestLog: RequestLogEntry[];
  clearRequestLog(): void;
  faults: FaultController;
  control: {
    setDeployOutcome(environmentUuid: string, outcome: DeployOutcome): void;
    /** How the next backups of an environment end; `message` is the error each failed service reports. */
    setBackupOutcome(environmentUuid: string, outcome: BackupOutcome, message?: string): void;
    /** How the next restores onto an environment end: PARTIAL fails the last service, FAILURE all. */
    setRestoreOutcome(environmentUuid: string, outcome: RestoreOutcome, message?: string): void;
    /** Downloads of this environment's backups end with `errors: [message]` (null: they succeed again). */
    setDownloadFailure(environmentUuid: string, message: string | null): void;
    setListOrder(order: ListOrder): void;
    setMaxPageSize(size: number | undefined): void;
    /** Query filters the list endpoints ignore from now on (e.g. `backup_download`), as for an older API. */
    ignoreFilters(names: string[]): void;
    /** Whether environment-variable answers carry sensitive values (default) or null in their place. */
    setSensitiveValues(mode: 'returned' | 'masked'): void;
  };
  state: SandboxState;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';

function queryRecord(q: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(q.keys())) {
    const all = q.getAll(key);
    out[key] = all.length === 1 ? (all[0] ?? '') : all;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parse a request body like DRF's JSONParser / FormParser. */
function parseBody(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = raw.toString('utf8');
  if (type === JSON_TYPE || type.endsWith('+json')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, { detail: `JSON parse error - ${(e as Error).message}` });
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, string | string[]> = {};
    const form = new URLSearchParams(text);
    for (const key of new Set(form.keys())) {
      const all = form.getAll(key);
      out[key] = all.length === 1 ? (all[0] ?? '') : all;
    }
    return out;
  }
  throw new HttpError(415, { detail: `Unsupported media type "${type}" in request.` });
}

/** What the sandbox needs of a clock (structurally the server's `Clock`, so one fake drives both). */
export interface SandboxClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realTime: SandboxClock = {
  now: () => Date.now(),
  // unref'd so a pending fault delay never keeps the process alive after close()
  sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms).unref()),
};

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? 'sandbox-token';
  const speed = opts.speed && opts.speed > 0 ? opts.speed : 1;
  const merged = { ...DEFAULT_TIMINGS, ...opts.timings };
  const timings: SandboxTimings = {
    deployMs: merged.deployMs / speed,
    backupMs: merged.backupMs / speed,
    restoreMs: merged.restoreMs / speed,
    downloadMs: merged.downloadMs / speed,
  };
  const clock = opts.clock ?? realTime;
  const now = opts.now ?? (() => clock.now());
  const sleep = (ms: number) => clock.sleep(ms);
  const state = new SandboxState(now, timings);
  if (opts.listOrder) state.listOrder = opts.listOrder;
  state.maxPageSize = opts.maxPageSize;
  const faults = new Faults();
  const requestLog: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // The Date header follows the sandbox clock, like the timestamps in its bodies.
    res.setHeader('Date', new Date(now()).toUTCString());
    const method = (req.method ?? 'GET').toUpperCase();
    // A request path starting with `//` is a path (Django answers 404), not an authority: append, do not resolve.
    const target = req.url ?? '/';
    const url = new URL(
      target.startsWith('/') ? `http://sandbox.invalid${target}` : target,
      'http://sandbox.invalid',
    );
    const path = url.pathname;
    const origin = `http://${req.headers.host ?? `${host}`}`;
    const raw = await readBody(req);
    const entry: RequestLogEntry = {
      method,
      path,
      query: queryRecord(url.searchParams),
      body: undefined,
      status: 0,
      at: new Date(now()).toISOString(),
    };
    requestLog.push(entry);
    let body: unknown;
    let bodyError: HttpError | undefined;
    try {
      body = parseBody(req, raw);
    } catch (e) {
      bodyError = e as HttpError;
      body = raw.toString('utf8');
    }
    entry.body = body;

    // faults apply to every path, including the pre-signed download URLs under /_storage/
    const fault = faults.match(method, path);
    if (fault) {
      entry.fault = fault.effect.kind;
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      const eff = fault.effect;
      if (eff.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (eff.kind === 'error') {
        send(res, entry, { status: eff.status, body: eff.body });
        return;
      }
      if (eff.kind === 'rateLimit') {
        // inferred: 429, Retry-After and DRF's throttle text; neither Divio's docs nor its CLI mention rate limiting
        const n = eff.retryAfterSeconds;
        send(res, entry, {
          status: 429,
          headers: { 'Retry-After': String(n) },
          body: { detail: `Request was throttled. Expected available in ${n} second${n === 1 ? '' : 's'}.` },
        });
        return;
      }
    }

    // Like DRF's lazy request.data: a bad body only fails once a handler reads it, i.e. after routing and auth.
    const ctx = { method, path, query: url.searchParams, origin, state } as Ctx;
    Object.defineProperty(ctx, 'body', {
      enumerable: true,
      get: () => {
        if (bodyError) throw bodyError;
        return body;
      },
    });
    let result: Result;
    try {
      result = dispatch(ctx, req, url);
    } catch (e) {
      if (e instanceof HttpError) result = { status: e.status, body: e.body, headers: e.headers };
      else result = { status: 500, body: { detail: 'A server error occurred.' } };
    }

    if (fault?.effect.kind === 'resetAfterHandling') {
      entry.status = 0;
      req.socket.destroy();
      return;
    }
    if (fault?.effect.kind === 'errorAfterHandling') {
      send(res, entry, { status: fault.effect.status, body: fault.effect.body });
      return;
    }
    if (fault?.effect.kind === 'malformedJson' && result.status < 400) {
      // The write happened; only its answer is unreadable. A 204 cannot carry a body, so it becomes a 200.
      const status =
        result.status >= 200 && result.status < 300 && result.status !== 204 ? result.status : 200;
      const text = JSON.stringify(result.body ?? {});
      entry.status = status;
      res.writeHead(status, { 'Content-Type': JSON_TYPE });
      res.end(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      return;
    }
    if (fault?.effect.kind === 'slowBody') {
      const buf = result.raw ?? Buffer.from(result.body === undefined ? '' : JSON.stringify(result.body));
      entry.status = result.status;
      res.writeHead(result.status, {
        'Content-Type': JSON_TYPE,
        'Content-Length': String(buf.length),
        ...result.headers,
      });
      const n = Math.max(1, eff(fault).chunks);
      const size = Math.ceil(buf.length / n) || 1;
      for (let i = 0; i < buf.length; i += size) {
        if (res.destroyed) return;
        res.write(buf.subarray(i, i + size));
        await sleep(eff(fault).durationMs / n);
      }
      res.end();
      return;
    }
    send(res, entry, result, method === 'HEAD');
  };

  const slashes = opts.slashes ?? 'append-slash';
  const redirect = (to: string, url: URL): Result => ({
    status: 301,
    headers: { Location: `${to}${url.search}` },
  });

  const dispatch = (ctx: Ctx, req: IncomingMessage, url: URL): Result => {
    if (ctx.path.startsWith('/_storage/')) return storage(ctx, url);
    let matched = matchRoute(ctx.path);
    if (slashes === 'cli-slashless') {
      // inferred: a server that routes these three without the slash would redirect the slashed spelling
      if (matched?.route.cliSlashless) return redirect(ctx.path.replace(/\/$/, ''), url);
      const slashed = ctx.path.endsWith('/') ? null : matchRoute(`${ctx.path}/`);
      if (slashed?.route.cliSlashless) matched = slashed;
    }
    if (!matched) {
      // Django's APPEND_SLASH: CommonMiddleware answers 301 to the slashed path for any method when DEBUG is
      // off, so a POST loses its body (inferred: Divio's settings are not known)
      if (!ctx.path.endsWith('/') && matchRoute(`${ctx.path}/`)) {
        return redirect(`${ctx.path}/`, url);
      }
      throw new HttpError(404, { detail: 'Not found.' });
    }
    const { route, id } = matched;
    if (route.auth) authenticate(req);
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    const handler = route.methods[method];
    if (!handler) {
      if (ctx.method === 'OPTIONS') {
        return { status: 200, body: { name: 'Sandbox', renders: [JSON_TYPE], parses: [JSON_TYPE] } };
      }
      const allow = [...Object.keys(route.methods), ...(route.methods['GET'] ? ['HEAD'] : []), 'OPTIONS'];
      throw new HttpError(
        405,
        { detail: `Method "${ctx.method}" not allowed.` },
        { Allow: allow.join(', ') },
      );
    }
    return handler(ctx, id);
  };

  // inferred: DRF's TokenAuthentication `{detail}` 401 bodies; no Divio source shows them
  const refused = opts.invalidTokenStatus ?? 401;
  // DRF sends WWW-Authenticate only with 401; a 403 answer carries none
  const challenge: Record<string, string> = refused === 401 ? { 'WWW-Authenticate': 'Token' } : {};
  const authenticate = (req: IncomingMessage) => {
    const header = req.headers.authorization;
    if (!header) {
      throw new HttpError(refused, { detail: 'Authentication credentials were not provided.' }, challenge);
    }
    const [scheme, value, extra] = header.trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'token' || !value || extra !== undefined) {
      const detail = !value
        ? 'Invalid token header. No credentials provided.'
        : 'Invalid token header. Token string should not contain spaces.';
      if (scheme?.toLowerCase() === 'token') throw new HttpError(refused, { detail }, challenge);
      // DRF's TokenAuthentication ignores other schemes, so the request counts as unauthenticated
      throw new HttpError(refused, { detail: 'Authentication credentials were not provided.' }, challenge);
    }
    if (value !== token) throw new HttpError(refused, { detail: 'Invalid token.' }, challenge);
  };

  const storage = (ctx: Ctx, url: URL): Result => {
    // a pre-signed-like object URL: no auth, but expiry and signature are checked
    const id = normaliseUuid(ctx.path.slice('/_storage/'.length).replace(/\/$/, ''));
    const x = id ? state.backupDownloadServiceInstances.get(id) : undefined;
    const expires = Number(url.searchParams.get('expires'));
    const sig = url.searchParams.get('signature') ?? '';
    const denied = (msg: string): Result => ({
      status: 403,
      headers: { 'Content-Type': 'application/xml' },
      raw: Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${msg}</Message></Error>`,
      ),
    });
    if (!x || sig !== state.signStorage(x.uuid, expires)) return denied('Request signature does not match');
    if (expires * 1000 < now()) return denied('Request has expired');
    const sib = state.serviceInstanceBackups.get(x.service_instance_backup);
    if (sib?.service_type === 'STORAGE') {
      return {
        status: 200,
        headers: { 'Content-Type': 'application/x-tar', 'Content-Encoding': 'gzip' },
        raw: gzipSync(Buffer.from(`sandbox media archive for ${sib.uuid}\n`.repeat(64))),
      };
    }
    return {
      status: 200,
      headers: { 'Content-Type': 'application/octet-stream' },
      raw: Buffer.concat([
        Buffer.from('PGDMP'),
        Buffer.from(`\nsandbox database dump for ${sib?.uuid ?? ''}\n`.repeat(64)),
      ]),
    };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': JSON_TYPE });
        res.end(JSON.stringify({ detail: 'A server error occurred.' }));
      } else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  state.baseUrl = url;

  return {
    url,
    token,
    requestLog,
    clearRequestLog: () => {
      requestLog.length = 0;
    },
    faults,
    control: {
      setDeployOutcome: (env, outcome) => {
        state.deployOutcomes.set(env, outcome);
      },
      setBackupOutcome: (env, outcome, message) => {
        state.backupOutcomes.set(env, { outcome, message });
      },
      setRestoreOutcome: (env, outcome, message) => {
        state.restoreOutcomes.set(env, { outcome, message });
      },
      setDownloadFailure: (env, message) => {
        if (message === null) state.downloadFailures.delete(env);
        else state.downloadFailures.set(env, message);
      },
      setListOrder: (order) => {
        state.listOrder = order;
      },
      setMaxPageSize: (size) => {
        state.maxPageSize = size;
      },
      ignoreFilters: (names) => {
        state.ignoredFilters.clear();
        for (const n of names) state.ignoredFilters.add(n);
      },
      setSensitiveValues: (mode) => {
        state.sensitiveValues = mode;
      },
    },
    state,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function eff(f: AppliedFault): { durationMs: number; chunks: number } {
  return f.effect.kind === 'slowBody' ? f.effect : { durationMs: 0, chunks: 1 };
}

function send(res: ServerResponse, entry: RequestLogEntry, result: Result, head = false): void {
  entry.status = result.status;
  const headers: Record<string, string> = { ...result.headers };
  let buf: Buffer | undefined = result.raw;
  if (!buf && result.body !== undefined) {
    buf = Buffer.from(JSON.stringify(result.body));
    headers['Content-Type'] ??= JSON_TYPE;
  }
  if (result.status === 301 || result.status === 204) buf = undefined;
  if (buf) headers['Content-Length'] = String(buf.length);
  else if (result.status !== 204) headers['Content-Length'] = '0';
  res.writeHead(result.status, headers);
  res.end(head ? undefined : buf);
}
