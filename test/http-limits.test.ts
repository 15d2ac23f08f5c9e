import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpConfigError, type RunningHttpServer, startHttpServer } from '../src/cli/http.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits, parseHttpLimits } from '../src/cli/limits.js';
import { DivioClient } from '../src/client/index.js';
import { defaultServerConfig } from '../src/mcp/config.js';
import { silentLogger } from '../src/mcp/log.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../src/sandbox/index.js';
import { createServerFactory } from '../src/server.js';
import { FakeClock } from './helpers/clock.js';

// The abuse limits of the HTTP transport, on a real 127.0.0.1 socket against a sandbox. Distinct clients
// are distinct source addresses (127.0.0.1, 127.0.0.2, ...: all of 127/8 is loopback on Linux).

interface Running {
  sandbox: Sandbox;
  divio: DivioClient;
  http: RunningHttpServer;
}

let running: Running | undefined;

afterEach(async () => {
  if (!running) return;
  await running.http.close();
  await running.divio.close();
  await running.sandbox.close();
  running = undefined;
});

async function start(
  limits: Partial<HttpLimits>,
  sandbox: SandboxOptions = {},
  clock = new FakeClock(),
): Promise<Running> {
  const sb = await startSandbox({ clock, ...sandbox });
  const divio = new DivioClient({ token: sb.token, baseUrl: sb.url, clock });
  const factory = createServerFactory({
    client: divio,
    config: defaultServerConfig({ pollIntervalMs: 50 }),
    log: silentLogger,
    clock,
  });
  const http = await startHttpServer(factory, {
    host: '127.0.0.1',
    port: 0,
    limits: { ...DEFAULT_HTTP_LIMITS, ...limits },
    log: silentLogger,
  });
  running = { sandbox: sb, divio, http };
  return running;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(url: string, body: unknown, from = '127.0.0.1'): Promise<Answer> {
  const u = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': String(Buffer.byteLength(payload)),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

let nextId = 1;
function call(name: string, args: Record<string, unknown> = {}) {
  return { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } };
}

async function waitUntil(cond: () => boolean, ms = 10_000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

const posts = (sb: Sandbox, path: RegExp) =>
  sb.requestLog.filter((e) => e.method === 'POST' && path.test(e.path)).length;
const BACKUP_POST = /^\/apps\/v3\/backups\/$/;

describe('HTTP limits', () => {
  it('refuses a JSON-RPC batch over the cap with a clear error and runs none of it', async () => {
    const { sandbox, http } = await start({ maxBatch: 3 });
    const batch = ['test', 'live', 'test', 'live'].map((environment, i) =>
      call('create_backup', { app: i < 2 ? 'shop' : 'blog', environment, wait_seconds: 0 }),
    );
    const refused = await post(http.url, batch);
    expect(refused.status).toBe(400);
    const error = JSON.parse(refused.body) as { error: { code: number; message: string } };
    expect(error.error.code).toBe(-32600);
    expect(error.error.message).toMatch(/at most 3 JSON-RPC messages per POST/);
    expect(error.error.message).toMatch(/Nothing in the batch was run/);
    expect(posts(sandbox, BACKUP_POST)).toBe(0);

    // At the cap, a batch is served.
    const served = await post(http.url, [
      call('list_applications', { limit: 1 }),
      call('list_organisations'),
    ]);
    expect(served.status).toBe(200);
    expect(served.body).toMatch(/"id":\d+/);
  });

  it('caps running tool calls per client (429) and in total (503), and frees the slots afterwards', async () => {
    // The backups' waits run on a clock that stands still until every slot has been tried.
    const clock = new FakeClock({ auto: false });
    const { sandbox, http } = await start(
      { maxCallsPerClient: 2, maxCalls: 3 },
      { timings: { backupMs: 60_000 } },
      clock,
    );
    const long = (app: string, environment: string, from: string) =>
      post(http.url, call('create_backup', { app, environment, wait_seconds: 1 }), from);
    const first = [long('shop', 'test', '127.0.0.1'), long('blog', 'test', '127.0.0.1')];
    expect(await waitUntil(() => posts(sandbox, BACKUP_POST) === 2)).toBe(true);

    const third = await post(http.url, call('list_applications'), '127.0.0.1');
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('5');
    expect(third.body).toMatch(/at most 2 at once, DIVIO_MCP_MAX_CALLS_PER_CLIENT/);

    // Another client still has room, up to the server-wide cap.
    const other = long('shop', 'live', '127.0.0.2');
    expect(await waitUntil(() => posts(sandbox, BACKUP_POST) === 3)).toBe(true);
    const overTotal = await post(http.url, call('list_applications'), '127.0.0.3');
    expect(overTotal.status).toBe(503);
    expect(overTotal.body).toMatch(/maximum of 3 tool calls \(DIVIO_MCP_MAX_CALLS\)/);

    clock.setAuto(true);
    for (const r of await Promise.all([...first, other])) expect(r.status).toBe(200);
    const after = await post(http.url, call('list_applications'), '127.0.0.1');
    expect(after.status).toBe(200);
    expect(posts(sandbox, BACKUP_POST)).toBe(3);
  });

  it('rate-limits each client with 429 and Retry-After; other clients are unaffected', async () => {
    const { http } = await start({ ratePerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await post(http.url, call('list_organisations'))).status).toBe(200);
    const limited = await post(http.url, call('list_organisations'));
    expect(limited.status).toBe(429);
    // One request a minute at 3 a minute: about 20 s until the next one is allowed.
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(limited.body).toMatch(/3 requests a minute \(DIVIO_MCP_RATE_LIMIT\)/);
    expect((await post(http.url, call('list_organisations'), '127.0.0.2')).status).toBe(200);
    // A batch pays one token per request in it.
    const batch = await post(http.url, [call('list_organisations'), call('list_organisations')], '127.0.0.3');
    expect(batch.status).toBe(200);
    expect((await post(http.url, call('list_organisations'), '127.0.0.3')).status).toBe(200);
    expect((await post(http.url, call('list_organisations'), '127.0.0.3')).status).toBe(429);
  });

  it('closes slow-header sockets at the headers timeout, and slow bodies at the request timeout', async () => {
    const { http } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const { port } = new URL(http.url);
    const slow = (body: boolean) =>
      new Promise<{ closed: boolean; answer: string }>((resolve) => {
        const socket = netConnect({ host: '127.0.0.1', port: Number(port) });
        let answer = '';
        let trickled = 0;
        let timer: NodeJS.Timeout | undefined;
        socket.on('data', (d: Buffer) => {
          answer += d.toString('utf8');
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(timer);
          resolve({ closed: true, answer });
        });
        socket.on('connect', () => {
          socket.write(
            body
              ? 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{'
              : 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n',
          );
          // Keep the socket busy: one more header (or body byte) every 100 ms, for at most 8 s.
          timer = setInterval(() => {
            trickled += 1;
            if (trickled > 80) {
              clearInterval(timer);
              socket.destroy();
              resolve({ closed: false, answer });
              return;
            }
            socket.write(body ? ' ' : `X-Slow-${trickled}: 1\r\n`);
          }, 100);
        });
      });
    // Three slow headers and a slow body, side by side.
    const [body, ...headers] = await Promise.all([slow(true), slow(false), slow(false), slow(false)]);
    for (const s of headers) {
      expect(s.closed).toBe(true);
      expect(s.answer).toMatch(/^HTTP\/1\.1 408/);
    }
    expect(body?.closed).toBe(true);
    expect(body?.answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('refuses a bearer token shorter than 32 characters, saying how to make one', async () => {
    const factory = () => {
      throw new Error('not reached');
    };
    await expect(
      startHttpServer(factory, {
        host: '127.0.0.1',
        port: 0,
        authToken: 'x'.repeat(31),
        log: silentLogger,
      }),
    ).rejects.toThrow(HttpConfigError);
    await expect(
      startHttpServer(factory, { host: '127.0.0.1', port: 0, authToken: 'short', log: silentLogger }),
    ).rejects.toThrow(/at least 32.*openssl rand -hex 32/);
  });

  it('reads each limit from its environment variable and refuses nonsense', () => {
    expect(
      parseHttpLimits({
        DIVIO_MCP_HEADERS_TIMEOUT_MS: '2000',
        DIVIO_MCP_REQUEST_TIMEOUT_MS: '4000',
        DIVIO_MCP_MAX_BATCH: '5',
        DIVIO_MCP_MAX_CALLS_PER_CLIENT: '4',
        DIVIO_MCP_MAX_CALLS: '20',
        DIVIO_MCP_RATE_LIMIT: '0',
      }),
    ).toEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      maxBatch: 5,
      maxCallsPerClient: 4,
      maxCalls: 20,
      ratePerMinute: 0,
    });
    expect(parseHttpLimits({})).toEqual(DEFAULT_HTTP_LIMITS);
    expect(() => parseHttpLimits({ DIVIO_MCP_MAX_BATCH: '0' })).toThrow(/DIVIO_MCP_MAX_BATCH/);
    expect(() => parseHttpLimits({ DIVIO_MCP_RATE_LIMIT: 'lots' })).toThrow(/DIVIO_MCP_RATE_LIMIT/);
    expect(() => parseHttpLimits({ DIVIO_MCP_HEADERS_TIMEOUT_MS: '40000' })).toThrow(
      /must not exceed DIVIO_MCP_REQUEST_TIMEOUT_MS/,
    );
  });
});
