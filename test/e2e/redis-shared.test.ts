import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttpServer, startHttpServer } from '../../src/cli/http.js';
import { DEFAULT_HTTP_LIMITS } from '../../src/cli/limits.js';
import { DivioClient } from '../../src/client/index.js';
import { defaultServerConfig } from '../../src/mcp/config.js';
import { silentLogger } from '../../src/mcp/log.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { createServerFactory } from '../../src/server.js';
import { RedisState } from '../../src/state/redis.js';
import { FAST, startHarness, textOf } from '../helpers/harness.js';
import { freePort, HAVE_REDIS, type RedisServer, startRedis } from '../helpers/redis.js';
import { sharedValidator } from '../helpers/validator.js';

// What replicas share through Redis, tested through real MCP clients against real redis-servers: declined
// dialogs, rate-limit counters and the resolution cache; and what happens while Redis is unreachable.

let redis: RedisServer;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  if (HAVE_REDIS) redis = await startRedis();
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await redis?.stop();
});

async function redisState(url: string, timeoutMs = 500): Promise<RedisState> {
  const s = new RedisState(url, { timeoutMs });
  cleanup.push(() => s.close());
  await s.connect();
  return s;
}

async function waitUntilReachable(s: RedisState): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await s.problem()) === null) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('Redis did not come back');
}

function get(url: string, from = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: from, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!HAVE_REDIS)('Redis configured but unreachable', () => {
  it('refuses writes naming the Redis host (never the password), keeps reads working, and recovers', async () => {
    const port = await freePort();
    const state = await redisState(`redis://:s3cret-pass@127.0.0.1:${port}/0`);
    const h = await startHarness({ state, config: { confirmMode: 'token' } });
    cleanup.push(() => h.close());

    const read = await h.call('get_application', { app: 'blog' });
    expect(read.isError, textOf(read)).toBeFalsy();

    const args = { app: 'blog', environment: 'test', name: 'FAIL_CLOSED', value: '1' };
    const preview = await h.call('set_environment_variable', args);
    const token = (preview.structuredContent as { confirmation_token: string }).confirmation_token;
    expect(token).toBeTruthy();
    h.sandbox.clearRequestLog();
    const refused = await h.call('set_environment_variable', { ...args, confirm: token });
    expect(refused.isError).toBe(true);
    const text = textOf(refused);
    expect(text).toContain(`Redis at redis://127.0.0.1:${port}/0`);
    expect(text).toContain('DIVIO_MCP_REDIS_URL');
    expect(text).toContain('Nothing was changed');
    expect(text).not.toContain('s3cret');
    expect(h.sandbox.requestLog.filter((e) => e.method !== 'GET')).toHaveLength(0);

    // Redis comes back: the same token was not used up, and the write runs once.
    const back = await startRedis(port);
    cleanup.push(() => back.stop());
    await waitUntilReachable(state);
    const done = await h.call('set_environment_variable', { ...args, confirm: token });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(h.sandbox.requestLog.filter((e) => e.method !== 'GET')).toHaveLength(1);
  });

  it('refuses writes in confirm mode none too (the write slot is shared state)', async () => {
    const state = await redisState(`redis://127.0.0.1:${await freePort()}`);
    const h = await startHarness({ state, config: { confirmMode: 'none' } });
    cleanup.push(() => h.close());
    h.sandbox.clearRequestLog();
    const r = await h.call('set_environment_variable', {
      app: 'blog',
      environment: 'test',
      name: 'NONE_MODE',
      value: '1',
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /shared state store \(Redis at redis:\/\/127\.0\.0\.1:\d+, DIVIO_MCP_REDIS_URL\) is unreachable/,
    );
    expect(h.sandbox.requestLog.filter((e) => e.method !== 'GET')).toHaveLength(0);
  });

  it('refuses create_backup (a write without confirmation) too', async () => {
    const state = await redisState(`redis://127.0.0.1:${await freePort()}`);
    const h = await startHarness({ state, config: { confirmMode: 'none' } });
    cleanup.push(() => h.close());
    h.sandbox.clearRequestLog();
    const r = await h.call('create_backup', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /create_backup was refused: the shared state store \(Redis at redis:\/\/127\.0\.0\.1:\d+/,
    );
    expect(h.sandbox.requestLog.filter((e) => e.method !== 'GET')).toHaveLength(0);
  });

  it('/readyz answers 503 while Redis is unreachable and 200 once it is back', async () => {
    const port = await freePort();
    const state = await redisState(`redis://:s3cret-pass@127.0.0.1:${port}`);
    const sandbox = await startSandbox();
    const divio = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url });
    const factory = createServerFactory({
      client: divio,
      config: defaultServerConfig(),
      log: silentLogger,
    });
    const http = await startHttpServer(factory, {
      host: '127.0.0.1',
      port: 0,
      state,
      limits: { ...DEFAULT_HTTP_LIMITS, ratePerMinute: 3 },
      log: silentLogger,
    });
    cleanup.push(
      () => http.close(),
      () => divio.close(),
      () => sandbox.close(),
    );
    const readyz = http.url.replace(/\/mcp$/, '/readyz');
    const down = await get(readyz);
    expect(down.status).toBe(503);
    expect(down.body).toContain(`Redis at redis://127.0.0.1:${port} is unreachable`);
    expect(down.body).not.toContain('s3cret');
    expect((await get(http.url.replace(/\/mcp$/, '/healthz'))).status).toBe(200);
    // The rate limit still holds while Redis is down, counted by this process alone.
    const from = '127.0.0.7';
    const limited: number[] = [];
    for (let i = 0; i < 4; i++) limited.push((await get(http.url, from)).status);
    expect(limited.slice(0, 3).every((st) => st !== 429)).toBe(true);
    expect(limited[3]).toBe(429);

    const back = await startRedis(port);
    cleanup.push(() => back.stop());
    await waitUntilReachable(state);
    expect((await get(readyz)).status).toBe(200);
  });
});

describe.skipIf(!HAVE_REDIS)('shared between replicas', () => {
  it('a declined dialog answered on one replica cannot be replayed as "accept" on another', async () => {
    const sandbox = await startSandbox({ timings: FAST });
    cleanup.push(() => sandbox.close());
    const confirmKey = new Uint8Array(randomBytes(32));
    const replica = async () => {
      const divio = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url });
      const factory = createServerFactory({
        client: divio,
        config: defaultServerConfig({ confirmKey }),
        log: silentLogger,
        state: await redisState(redis.url),
      });
      const handler = createMcpHandler(factory);
      cleanup.push(
        () => handler.close(),
        () => divio.close(),
      );
      return handler;
    };
    const [a, b] = [await replica(), await replica()];
    const sent: { body: string; headers: Headers }[] = [];
    const mcp = new Client(
      { name: 'replay', version: '1' },
      {
        jsonSchemaValidator: sharedValidator,
        capabilities: { elicitation: { form: {} } },
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      },
    );
    mcp.setRequestHandler('elicitation/create', async () => ({ action: 'decline' }));
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL('http://divio-mcp.test/mcp'), {
        fetch: async (url, init) => {
          sent.push({ body: String(init?.body ?? ''), headers: new Headers(init?.headers) });
          return a.fetch(new Request(url, init));
        },
      }),
    );
    cleanup.push(() => mcp.close());
    const args = { app: 'blog', environment: 'test', name: 'REPLAYED_ELSEWHERE', value: '1' };
    const declined = await mcp.callTool({ name: 'set_environment_variable', arguments: args });
    expect(textOf(declined as never)).toMatch(/did not confirm \(decline\)/);

    const answered = sent.find((s) => /"requestState"/.test(s.body));
    const replay = JSON.parse(answered?.body ?? '{}') as {
      id: number;
      params: { inputResponses: Record<string, unknown> };
    };
    replay.id = 99;
    replay.params.inputResponses = { confirm: { action: 'accept', content: { confirm: true } } };
    const res = await b.fetch(
      new Request('http://divio-mcp.test/mcp', {
        method: 'POST',
        headers: answered?.headers ?? {},
        body: JSON.stringify(replay),
      }),
    );
    const text = await res.text();
    expect(text).toMatch(/confirmation was already used/);
    expect(sandbox.requestLog.filter((e) => e.method !== 'GET')).toHaveLength(0);
  });

  it("counts a client's requests on every replica in one rate limit", async () => {
    const sandbox = await startSandbox();
    const divio = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url });
    cleanup.push(
      () => divio.close(),
      () => sandbox.close(),
    );
    const replica = async (): Promise<RunningHttpServer> => {
      const factory = createServerFactory({
        client: divio,
        config: defaultServerConfig(),
        log: silentLogger,
      });
      const http = await startHttpServer(factory, {
        host: '127.0.0.1',
        port: 0,
        limits: { ...DEFAULT_HTTP_LIMITS, ratePerMinute: 4 },
        state: await redisState(redis.url),
        log: silentLogger,
      });
      cleanup.push(() => http.close());
      return http;
    };
    const [a, b] = [await replica(), await replica()];
    // A client address of its own (all of 127/8 is loopback), so other tests' requests do not count.
    const from = '127.0.0.9';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get((i % 2 ? b : a).url, from)).status);
    // 4 a minute across both replicas: the fifth and sixth are refused, whichever replica they reach.
    expect(statuses.slice(0, 4).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(4)).toEqual([429, 429]);
  });

  it('resolves an application once for every replica using the same token, never across tokens', async () => {
    const sandbox = await startSandbox();
    cleanup.push(() => sandbox.close());
    const client = async (token = sandbox.token) => {
      const c = new DivioClient({ token, baseUrl: sandbox.url, sharedCache: await redisState(redis.url) });
      cleanup.push(() => c.close());
      return c;
    };
    const lookups = () =>
      sandbox.requestLog.filter((e) => e.method === 'GET' && e.path.startsWith('/apps/v3/applications'))
        .length;
    const [a, b] = [await client(), await client()];
    sandbox.clearRequestLog();
    const first = await a.resolveApplication('blog');
    const afterFirst = lookups();
    expect(afterFirst).toBeGreaterThan(0);
    // Other replicas: the shared cache answers (the first replica wrote it on its own connection first).
    let second = await b.resolveApplication('blog');
    expect(second.uuid).toBe(first.uuid);
    const c = await client();
    sandbox.clearRequestLog();
    second = await c.resolveApplication('blog');
    expect(second.uuid).toBe(first.uuid);
    expect(lookups()).toBe(0);
    // Environments too.
    await a.resolveEnvironment(first, 'test');
    sandbox.clearRequestLog();
    const d = await client();
    expect((await d.resolveEnvironment(first, 'test')).slug).toBe('test');
    expect(sandbox.requestLog.filter((e) => e.path.startsWith('/apps/v3/environments'))).toHaveLength(0);
    // Another token (another deployment sharing the Redis) never reads this token's entries.
    const other = await client('another-token-that-the-sandbox-refuses-0123456789');
    sandbox.clearRequestLog();
    await expect(other.resolveApplication('blog')).rejects.toThrow();
    expect(lookups()).toBeGreaterThan(0);
  });
});
