import { createServer } from 'node:net';
import { McpServer } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Drain } from '../src/cli/drain.js';
import { type RunningHttpServer, startHttpServer } from '../src/cli/http.js';
import { DivioTokenCheck } from '../src/cli/readiness.js';
import { type ClientObserver, DivioClient } from '../src/client/index.js';
import { silentLogger } from '../src/mcp/log.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';

let sandbox: Sandbox;
const opened: { close: () => Promise<void> }[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ invalidTokenStatus: 403 });
});
afterAll(async () => {
  for (const o of opened.reverse()) await o.close().catch(() => undefined);
  await sandbox.close();
});

/** Counts the token checks the client sends. */
function counter(): ClientObserver & { checks: number } {
  const o = {
    checks: 0,
    exchange: (_m: string, apiPath: string) => {
      if (apiPath === '/iam/v3/me/') o.checks += 1;
    },
    retry: () => undefined,
  };
  return o;
}

async function serve(
  client: DivioClient,
  opts: { drain?: Drain; now?: () => number } = {},
): Promise<RunningHttpServer & { readyz: string }> {
  opened.push(client);
  const check = new DivioTokenCheck(client, { ...(opts.now ? { now: opts.now } : {}), timeoutMs: 2000 });
  const http = await startHttpServer(() => new McpServer({ name: 't', version: '1' }), {
    host: '127.0.0.1',
    port: 0,
    readyChecks: [() => check.check()],
    ...(opts.drain ? { drain: opts.drain } : {}),
    log: silentLogger,
  });
  opened.push(http);
  return { ...http, readyz: http.url.replace(/\/mcp$/, '/readyz') };
}

async function probe(url: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

const noRetry = { maxRetries: 0 };

describe('/readyz checks the Divio token', () => {
  it('is ready when GET /iam/v3/me/ succeeds, and re-checks at most once per 30 s', async () => {
    let now = 1_000_000;
    const seen = counter();
    const client = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url, observer: seen });
    const s = await serve(client, { now: () => now });
    const first = await probe(s.readyz);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'ready' });
    // Probes in the same period, and probes that arrive together, share one check.
    await Promise.all([probe(s.readyz), probe(s.readyz), probe(s.readyz)]);
    now += 29_000;
    expect((await probe(s.readyz)).status).toBe(200);
    expect(seen.checks).toBe(1);
    now += 2_000;
    expect((await probe(s.readyz)).status).toBe(200);
    expect(seen.checks).toBe(2);
  });

  it('is not ready (503) when the token is refused, with a reason and without the token', async () => {
    const token = 'wrong-token-7f3a9c1e5b2d4f6a8c0e';
    const client = new DivioClient({ token, baseUrl: sandbox.url, retry: noRetry });
    const s = await serve(client);
    const r = await probe(s.readyz);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'not_ready', reason: 'divio_token_rejected' });
    expect(String(r.body['message'])).toMatch(/DIVIO_API_TOKEN/);
    expect(r.text).not.toContain(token);
    // Liveness is not affected.
    const live = await fetch(s.readyz.replace(/readyz$/, 'healthz'));
    expect(live.status).toBe(200);
  });

  it('is not ready when the Divio API cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probeServer = createServer().listen(0, '127.0.0.1', () => {
        const p = (probeServer.address() as { port: number }).port;
        probeServer.close(() => resolve(p));
      });
    });
    const client = new DivioClient({
      token: 'some-token-0123456789abcdef',
      baseUrl: `http://127.0.0.1:${port}`,
      retry: noRetry,
    });
    const s = await serve(client);
    const r = await probe(s.readyz);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ reason: 'divio_unreachable' });
  });

  it('is not ready without a token', async () => {
    const client = new DivioClient({ baseUrl: sandbox.url });
    const s = await serve(client);
    const r = await probe(s.readyz);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ reason: 'divio_token_missing' });
  });

  it('reports a 5xx from the token check as not ready, and recovers at the next check', async () => {
    let now = 5_000_000;
    const client = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url, retry: noRetry });
    const s = await serve(client, { now: () => now });
    sandbox.faults.set([{ method: 'GET', path: '/iam/v3/me/', error: { status: 500 }, count: 1 }]);
    try {
      const r = await probe(s.readyz);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ reason: 'divio_api_error' });
    } finally {
      sandbox.faults.reset();
    }
    now += 30_000;
    expect((await probe(s.readyz)).status).toBe(200);
  });

  it('still fails while draining, without asking the API', async () => {
    const seen = counter();
    const drain = new Drain();
    const client = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url, observer: seen });
    const s = await serve(client, { drain });
    void drain.begin(1000);
    const r = await probe(s.readyz);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'draining' });
    expect(seen.checks).toBe(0);
  });
});
