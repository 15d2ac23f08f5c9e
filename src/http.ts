import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  type McpServer,
  validateHostHeader,
  validateOriginHeader,
} from '@modelcontextprotocol/server';
import { VERSION } from './version.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** Bearer token clients must present; required on a non-loopback bind. */
  authToken?: string | undefined;
  /** Extra hostnames allowed in Host and Origin, beyond localhost and the bind address. */
  allowedHosts?: readonly string[];
  log: (line: string) => void;
}

export interface RunningHttpServer {
  url: string;
  close: () => Promise<void>;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

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
 * Streamable HTTP at /mcp (stateless: a fresh server per request, so replicas need no affinity),
 * with the checks the spec requires and the SDK handler leaves to us: Host and Origin validation
 * against DNS rebinding, and client authentication for anything not bound to loopback.
 * 2025-era clients are served statelessly too; they cannot answer a pushed dialog over this
 * transport, so the confirmation gate treats them as clients without elicitation.
 */
export async function startHttpServer(
  factory: () => McpServer,
  opts: HttpOptions,
): Promise<RunningHttpServer> {
  if (!isLoopbackHost(opts.host) && !opts.authToken) {
    throw new HttpConfigError(
      `Refusing to listen on ${opts.host} without client authentication. Set DIVIO_MCP_AUTH_TOKEN (clients send it as "Authorization: Bearer <token>"), or bind to 127.0.0.1.`,
    );
  }
  const allowed = [...LOOPBACK_HOSTS, opts.host, ...(opts.allowedHosts ?? [])].map((h) => h.toLowerCase());
  const handler = createMcpHandler(factory, { onerror: (e) => opts.log(`[http] ${e.message}`) });
  const node = toNodeHandler(handler, { onerror: (e) => opts.log(`[http] ${e.message}`) });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok', name: 'divio-mcp', version: VERSION });
      return;
    }
    if (url.pathname !== '/mcp') {
      sendJson(res, 404, { error: 'Not found. The MCP endpoint is /mcp; health is /healthz.' });
      return;
    }
    const hostCheck = validateHostHeader(req.headers.host, allowed);
    if (!hostCheck.ok) {
      sendJson(res, 403, jsonRpcError(`Host header not allowed: ${hostCheck.message}`));
      return;
    }
    const originCheck = validateOriginHeader(req.headers.origin, allowed);
    if (!originCheck.ok) {
      sendJson(res, 403, jsonRpcError(`Origin not allowed: ${originCheck.message}`));
      return;
    }
    if (opts.authToken && !bearerMatches(req.headers.authorization, opts.authToken)) {
      sendJson(res, 401, jsonRpcError('Missing or invalid bearer token.'), { 'www-authenticate': 'Bearer' });
      return;
    }
    node(req as Parameters<typeof node>[0], res).catch((error: unknown) => {
      opts.log(`[http] ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, jsonRpcError('Internal error', -32603));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}/mcp`,
    close: async () => {
      await handler.close();
      // server.close() only calls back once every socket is gone; idle keep-alive sockets would hold it
      // for the keep-alive timeout, so drop them now (in-flight requests finished with handler.close()).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
