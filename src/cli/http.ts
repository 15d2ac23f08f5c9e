import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  type McpRequestContext,
  type McpServer,
  validateHostHeader,
  validateOriginHeader,
} from '@modelcontextprotocol/server';
import { VERSION } from '../client/index.js';
import type { Logger } from '../mcp/log.js';
import type { SharedState } from '../state/index.js';
import type { AuthAnswer, OAuthGate } from './auth.js';
import type { Drain } from './drain.js';
import { isLoopbackHost } from './hosts.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits.js';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** Bearer token clients must present; required on a non-loopback bind. */
  authToken?: string | undefined;
  /** Extra hostnames allowed in Host and Origin, beyond localhost and the bind address. */
  allowedHosts?: readonly string[];
  /** Abuse limits; defaults in limits.ts. */
  limits?: HttpLimits;
  /** OAuth 2.1 resource server (auth.ts); exclusive with `authToken`. */
  oauth?: OAuthGate | undefined;
  /** Shutdown drain: while draining, /mcp answers 503 and /readyz fails; in-flight requests are counted. */
  drain?: Drain;
  /** Shared rate-limit counters and a readiness check (Redis when configured); this process's memory otherwise. */
  state?: SharedState;
  /** Checks /readyz runs after the drain check (e.g. the cached Divio token check); all must pass. */
  readyChecks?: readonly (() => Promise<Readiness>)[];
  /** Served at /metrics (behind the same client authentication as /mcp), unless `metricsPort` is set. */
  metrics?: Metrics | undefined;
  /** Serve /metrics on this port of 127.0.0.1 instead, without authentication (0 picks a free one). */
  metricsPort?: number | undefined;
  log: Logger;
}

/** Shortest bearer token accepted: 32 characters, as `openssl rand -hex 32` gives 64. */
export const MIN_AUTH_TOKEN_LENGTH = 32;

/** Largest POST body read (the SDK's own default bound). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface RunningHttpServer {
  url: string;
  /** Where /metrics is served, when it is. */
  metricsUrl?: string;
  close: () => Promise<void>;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

export class HttpConfigError extends Error {
  override name = 'HttpConfigError';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of the presented bearer token with the configured one. */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const presented = match?.[1]?.trim() ?? '';
  return timingSafeEqual(digest(presented), digest(expected)) && presented.length > 0;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function jsonRpcError(message: string, code = -32000) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

/**
 * Per-client token bucket: `perMinute` requests a minute, bursts up to the same number. A client is the
 * remote address of the TCP connection (behind a reverse proxy, that is the proxy: see SECURITY.md).
 */
class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly perMinute: number) {}

  /** Takes `n` tokens; returns 0 when allowed, otherwise the milliseconds until they would be available. */
  take(client: string, n: number, now = Date.now()): number {
    if (this.perMinute === 0) return 0;
    const perMs = this.perMinute / 60_000;
    const b = this.#buckets.get(client) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * perMs);
    b.at = now;
    this.#buckets.set(client, b);
    if (this.#buckets.size > 10_000) this.#prune(now);
    if (n > this.perMinute) return 60_000;
    if (b.tokens >= n) {
      b.tokens -= n;
      return 0;
    }
    return Math.ceil((n - b.tokens) / perMs);
  }

  /** Forgets clients whose bucket has refilled: they are indistinguishable from new ones. */
  #prune(now: number): void {
    for (const [client, b] of this.#buckets)
      if (b.tokens + (now - b.at) * (this.perMinute / 60_000) >= this.perMinute) this.#buckets.delete(client);
  }
}

/** Running tool calls per client and in all; a reservation is all-or-nothing. */
class CallSlots {
  readonly #perClient = new Map<string, number>();
  #total = 0;
  constructor(
    readonly maxPerClient: number,
    readonly maxTotal: number,
  ) {}

  reserve(client: string, n: number): 'client' | 'total' | (() => void) {
    if (n === 0) return () => undefined;
    const mine = this.#perClient.get(client) ?? 0;
    if (mine + n > this.maxPerClient) return 'client';
    if (this.#total + n > this.maxTotal) return 'total';
    this.#perClient.set(client, mine + n);
    this.#total += n;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total -= n;
      const left = (this.#perClient.get(client) ?? n) - n;
      if (left <= 0) this.#perClient.delete(client);
      else this.#perClient.set(client, left);
    };
  }
}

/** Reads a request body up to `max` bytes; null when it is larger. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > max) return null;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

interface MessageCounts {
  messages: number;
  /** Messages with a method and an id: each one is answered and counts against the rate limit. */
  requests: number;
  toolCalls: number;
}

function countMessages(body: unknown): MessageCounts {
  const list = Array.isArray(body) ? body : [body];
  let requests = 0;
  let toolCalls = 0;
  for (const m of list) {
    if (!m || typeof m !== 'object' || !('method' in m) || !('id' in m)) continue;
    requests += 1;
    if ((m as { method: unknown }).method === 'tools/call') toolCalls += 1;
  }
  return { messages: list.length, requests, toolCalls };
}

/**
 * Streamable HTTP at /mcp (stateless: a fresh server per request, so replicas need no affinity),
 * with the checks the spec requires and the SDK handler leaves to us: Host and Origin validation
 * against DNS rebinding, and client authentication for anything not bound to loopback.
 * 2025-era clients are served statelessly too; they cannot answer a pushed dialog over this
 * transport, so the confirmation gate treats them as clients without elicitation.
 */
/** The host name of a Host header, without port, for messages (length-capped; the header is client input). */
function hostName(header: string | undefined): string {
  const raw = (header ?? '').slice(0, 200);
  const bracket = /^\[([^\]]*)\]/.exec(raw);
  if (bracket) return bracket[1] ?? '';
  return raw.replace(/:\d*$/, '').replace(/[^\w.-]/g, '?');
}

/** What a request may see: the HTTP transport builds one server per request. */
export type RequestScope = Partial<McpRequestContext> & {
  /** The client's token lacks the write scope: write tools are not registered for it. */
  hideWrites?: boolean;
};

function sendAnswer(res: ServerResponse, answer: AuthAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

export async function startHttpServer(
  factory: (scope?: RequestScope) => McpServer,
  opts: HttpOptions,
): Promise<RunningHttpServer> {
  // Host names already explained on stderr, so a misconfigured proxy does not flood the log.
  const hintedHosts = new Set<string>();
  if (opts.authToken && opts.oauth) {
    throw new HttpConfigError(
      'DIVIO_MCP_AUTH_TOKEN and --oauth-issuer are exclusive: choose the static bearer token or OAuth, not both.',
    );
  }
  if (!isLoopbackHost(opts.host) && !opts.authToken && !opts.oauth) {
    throw new HttpConfigError(
      `Refusing to listen on ${opts.host} without client authentication. Set DIVIO_MCP_AUTH_TOKEN (clients send it as "Authorization: Bearer <token>") or --oauth-issuer with --oauth-audience, or bind to 127.0.0.1.`,
    );
  }
  if (opts.authToken !== undefined && opts.authToken.trim().length < MIN_AUTH_TOKEN_LENGTH) {
    throw new HttpConfigError(
      `DIVIO_MCP_AUTH_TOKEN is too short (${opts.authToken.trim().length} characters); it must be at least ${MIN_AUTH_TOKEN_LENGTH}, random, and secret. Make one with: openssl rand -hex 32`,
    );
  }
  const limits = opts.limits ?? DEFAULT_HTTP_LIMITS;
  const local = new RateLimiter(limits.ratePerMinute);
  const state = opts.state;
  // Counted in the shared store when there is one (every replica sees the client's requests); if it is down,
  // each process limits on its own so reads keep working.
  const takeRate = (client: string, n: number): Promise<number> =>
    state && state.kind !== 'memory'
      ? state.takeRate(client, n, limits.ratePerMinute).catch(() => local.take(client, n))
      : Promise.resolve(local.take(client, n));
  const slots = new CallSlots(limits.maxCallsPerClient, limits.maxCalls);
  const drain = opts.drain;
  const allowed = [...LOOPBACK_HOSTS, opts.host, ...(opts.allowedHosts ?? [])].map((h) => h.toLowerCase());
  const oauth = opts.oauth;
  const handler = createMcpHandler(
    (ctx) => factory({ ...ctx, hideWrites: !!oauth && !oauth.allowsWrites(ctx.authInfo) }),
    { onerror: (e) => opts.log.error(`http: ${e.message}`) },
  );
  const node = toNodeHandler(handler, { onerror: (e) => opts.log.error(`http: ${e.message}`) });

  const serveMcp = async (
    req: IncomingMessage,
    res: ServerResponse,
    client: string,
    leave: (() => void) | undefined,
  ): Promise<void> => {
    if (oauth) {
      const auth = await oauth.authenticate(req.headers.authorization);
      if ('status' in auth) {
        sendAnswer(res, auth);
        return;
      }
      // toNodeHandler hands `req.auth` to the factory and to handlers as authInfo.
      (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    }
    let parsed: unknown;
    if (req.method === 'POST') {
      const raw = await readBody(req, MAX_BODY_BYTES);
      if (raw === null) {
        sendJson(res, 413, jsonRpcError(`Request body over ${MAX_BODY_BYTES} bytes.`), {
          connection: 'close',
        });
        return;
      }
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        sendJson(res, 400, jsonRpcError('Parse error: the body is not valid JSON.', -32700));
        return;
      }
      // A 2026-07-28 subscription stream stays open until the client leaves: it is not a call the shutdown
      // drain should wait for (the connection is closed when the server exits).
      if ((parsed as { method?: unknown } | null)?.method === 'subscriptions/listen') leave?.();
      const counts = countMessages(parsed);
      if (Array.isArray(parsed) && counts.messages > limits.maxBatch) {
        sendJson(
          res,
          400,
          jsonRpcError(
            `Batch of ${counts.messages} messages refused: this server accepts at most ${limits.maxBatch} JSON-RPC messages per POST (DIVIO_MCP_MAX_BATCH). Nothing in the batch was run. Send them in smaller batches or one at a time.`,
            -32600,
          ),
        );
        return;
      }
      const challenge = await oauth?.scopeChallenge(parsed, (req as { auth?: AuthInfo }).auth);
      if (challenge) {
        sendAnswer(res, challenge);
        return;
      }
      // The POST itself was paid for before the body was read.
      const waitMs = await takeRate(client, Math.max(0, counts.requests - 1));
      if (waitMs > 0) {
        tooManyRequests(res, waitMs);
        return;
      }
      const reserved = slots.reserve(client, counts.toolCalls);
      if (reserved === 'client' || reserved === 'total') {
        opts.metrics?.rejected(reserved === 'client' ? 'client_calls' : 'total_calls');
        const cap = reserved === 'client' ? limits.maxCallsPerClient : limits.maxCalls;
        const who =
          reserved === 'client'
            ? `this client already has tool calls running (at most ${cap} at once, DIVIO_MCP_MAX_CALLS_PER_CLIENT)`
            : `the server is running its maximum of ${cap} tool calls (DIVIO_MCP_MAX_CALLS)`;
        sendJson(
          res,
          reserved === 'client' ? 429 : 503,
          jsonRpcError(
            `Tool call refused: ${who}. Nothing was run. Wait for a running call to finish, then send it again.`,
          ),
          { 'retry-after': '5' },
        );
        return;
      }
      res.on('close', reserved);
    }
    await node(req as Parameters<typeof node>[0], res, parsed);
  };

  const tooManyRequests = (res: ServerResponse, waitMs: number) => {
    opts.metrics?.rejected('rate_limit');
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    sendJson(
      res,
      429,
      jsonRpcError(
        `Rate limit: this client may send ${limits.ratePerMinute} requests a minute (DIVIO_MCP_RATE_LIMIT). Nothing was run. Retry after ${seconds} s.`,
      ),
      { 'retry-after': String(seconds) },
    );
  };

  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both timeouts on this interval (30 s by default), so a slow-header socket would
      // otherwise live up to 30 s past its timeout.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/healthz') {
        // Liveness: the process is up, draining or not.
        sendJson(res, 200, { status: 'ok', name: 'divio-mcp', version: VERSION });
        return;
      }
      if (url.pathname === '/readyz') {
        if (drain?.draining) sendJson(res, 503, { status: 'draining', name: 'divio-mcp', version: VERSION });
        // Not ready while the shared store is unreachable (writes would be refused), nor while a check fails.
        else
          void readiness([...(state ? [() => stateReadiness(state)] : []), ...(opts.readyChecks ?? [])]).then(
            (r) => answerReadiness(res, r),
          );
        return;
      }
      if (url.pathname === '/metrics' && opts.metrics && opts.metricsPort === undefined) {
        const metrics = opts.metrics;
        const client = req.socket.remoteAddress ?? 'unknown';
        const waitMs = local.take(client, 1);
        if (waitMs > 0) tooManyRequests(res, waitMs);
        else if (opts.authToken && !bearerMatches(req.headers.authorization, opts.authToken))
          sendJson(res, 401, { error: 'Missing or invalid bearer token.' }, { 'www-authenticate': 'Bearer' });
        else if (oauth)
          // The same OAuth check as /mcp (no scope needed: the metrics name no tool argument or result).
          void oauth.authenticate(req.headers.authorization).then(
            (auth) => ('status' in auth ? sendAnswer(res, auth) : serveMetrics(req, res, metrics)),
            () => sendJson(res, 500, { error: 'Could not check the access token.' }),
          );
        // Without client authentication (loopback only), the Host check keeps DNS-rebinding pages out as for
        // /mcp. With it, a page cannot present a token, so a scraper may use any Host (Prometheus sends the
        // pod's address).
        else if (!opts.authToken && !validateHostHeader(req.headers.host, allowed).ok)
          sendJson(res, 403, { error: 'Host header not allowed.' });
        else void serveMetrics(req, res, metrics);
        return;
      }
      const metadata = oauth?.metadataAnswer(url.pathname, req.method);
      if (metadata) {
        sendAnswer(res, metadata);
        return;
      }
      if (url.pathname !== '/mcp') {
        sendJson(res, 404, {
          error: `Not found. The MCP endpoint is /mcp; liveness is /healthz, readiness /readyz${opts.metrics && opts.metricsPort === undefined ? ', metrics /metrics' : ''}.`,
        });
        return;
      }
      if (drain?.draining) {
        sendJson(
          res,
          503,
          jsonRpcError(
            'This server is shutting down and accepts no new requests. Retry on another instance.',
          ),
          { connection: 'close', 'retry-after': '5' },
        );
        return;
      }
      const hostCheck = validateHostHeader(req.headers.host, allowed);
      if (!hostCheck.ok) {
        const name = hostName(req.headers.host);
        const hint = `If this server is meant to answer to ${JSON.stringify(name)} (its own address, or a proxy's), add it to DIVIO_MCP_ALLOWED_HOSTS (comma-separated).`;
        if (!hintedHosts.has(name) && hintedHosts.size < 100) {
          hintedHosts.add(name);
          opts.log.warn(`refused a request for host ${JSON.stringify(name)}. ${hint}`);
        }
        sendJson(res, 403, jsonRpcError(`Host header not allowed: ${hostCheck.message} ${hint}`));
        return;
      }
      const originCheck = validateOriginHeader(req.headers.origin, allowed);
      if (!originCheck.ok) {
        sendJson(res, 403, jsonRpcError(`Origin not allowed: ${originCheck.message}`));
        return;
      }
      const client = req.socket.remoteAddress ?? 'unknown';
      // Before authentication, so guessing the bearer token is throttled too.
      const admit = async (): Promise<void> => {
        const waitMs = await takeRate(client, 1);
        if (waitMs > 0) {
          tooManyRequests(res, waitMs);
          return;
        }
        if (opts.authToken && !bearerMatches(req.headers.authorization, opts.authToken)) {
          sendJson(res, 401, jsonRpcError('Missing or invalid bearer token.'), {
            'www-authenticate': 'Bearer',
          });
          return;
        }
        const leave = drain?.enter();
        if (leave) res.on('close', leave);
        await serveMcp(req, res, client, leave);
      };
      admit().catch((error: unknown) => {
        opts.log.error(`http: ${error instanceof Error ? error.message : String(error)}`);
        if (!res.headersSent) sendJson(res, 500, jsonRpcError('Internal error', -32603));
        else res.destroy();
      });
    },
  );

  await listen(server, opts.port, opts.host, '--port');
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  if (opts.metrics && opts.metricsPort !== undefined) {
    metricsServer = metricsListener(opts.metrics);
    try {
      await listen(metricsServer, opts.metricsPort, '127.0.0.1', '--metrics-port');
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    }
    metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`;
  }
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}/mcp`,
    ...(metricsUrl !== undefined ? { metricsUrl } : {}),
    close: async () => {
      await handler.close();
      if (metricsServer) {
        const m = metricsServer;
        const closedMetrics = new Promise<void>((resolve) => m.close(() => resolve()));
        m.closeAllConnections();
        await closedMetrics;
      }
      // server.close() only calls back once every socket is gone; idle keep-alive sockets would hold it
      // for the keep-alive timeout, so drop them now (in-flight requests finished with handler.close()).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function listen(server: Server, port: number, host: string, flag: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(
          new HttpConfigError(
            `Port ${port} on ${host} is already in use. Stop the other process, choose another ${flag}, or pass ${flag} 0 to take a free one (the start-up line prints it).`,
          ),
        );
      else if (error.code === 'EACCES')
        reject(
          new HttpConfigError(
            `Not allowed to listen on port ${port} (ports below 1024 need privileges); choose another ${flag}.`,
          ),
        );
      else reject(error);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** The first failing check, or ready; a check that throws counts as failing (never the server's fault). */
async function readiness(checks: readonly (() => Promise<Readiness>)[]): Promise<Readiness> {
  for (const check of checks) {
    const r = await check().catch(
      (): Readiness => ({ ready: false, reason: 'check_failed', message: 'A readiness check failed.' }),
    );
    if (!r.ready) return r;
  }
  return { ready: true };
}

function answerReadiness(res: ServerResponse, r: Readiness): void {
  if (r.ready) sendJson(res, 200, { status: 'ready', name: 'divio-mcp', version: VERSION });
  else
    sendJson(res, 503, {
      status: 'not_ready',
      reason: r.reason,
      message: r.message,
      name: 'divio-mcp',
      version: VERSION,
    });
}

async function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: Metrics): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'Use GET /metrics.' }, { allow: 'GET, HEAD' });
    return;
  }
  try {
    const body = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    if (!res.headersSent) sendJson(res, 500, { error: 'Could not render the metrics.' });
  }
}

/**
 * The separate metrics listener (`--metrics-port`): loopback only and without authentication, for a scraper or
 * agent on the same host (or in the same pod). It checks Host against loopback names, so a web page that
 * rebinds its DNS name to 127.0.0.1 cannot read it.
 */
function metricsListener(metrics: Metrics): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/metrics')
      sendJson(res, 404, { error: 'Not found. This listener serves /metrics only.' });
    else if (!validateHostHeader(req.headers.host, LOOPBACK_HOSTS).ok)
      sendJson(res, 403, { error: 'Host header not allowed: use 127.0.0.1 or localhost.' });
    else void serveMetrics(req, res, metrics);
  });
}

async function stateReadiness(state: SharedState): Promise<Readiness> {
  const problem = await state.problem();
  return problem ? { ready: false, reason: 'shared_state_unreachable', message: problem } : { ready: true };
}
