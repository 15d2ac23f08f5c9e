import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpOptions, type RunningHttpServer, startHttpServer } from '../src/cli/http.js';
import { DEFAULT_HTTP_LIMITS } from '../src/cli/limits.js';
import { Metrics, pathTemplate } from '../src/cli/metrics.js';
import { DivioClient } from '../src/client/index.js';
import { defaultServerConfig, type ServerConfig } from '../src/mcp/config.js';
import { silentLogger } from '../src/mcp/log.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { createServerFactory } from '../src/server.js';
import { FakeClock } from './helpers/clock.js';
import { FAST } from './helpers/harness.js';
import { sharedValidator } from './helpers/validator.js';

const AUTH = 'metrics-test-bearer-0123456789abcdef0123';

interface Running {
  sandbox: Sandbox;
  divio: DivioClient;
  metrics: Metrics;
  http: RunningHttpServer;
  close: () => Promise<void>;
}

async function start(
  opts: {
    config?: Partial<ServerConfig>;
    http?: Partial<HttpOptions>;
    sandboxTimings?: typeof FAST;
    stopWaiting?: AbortSignal;
    /** Shared by the sandbox, the waits and the retries (default: an auto fake clock). */
    clock?: FakeClock;
  } = {},
): Promise<Running> {
  const clock = opts.clock ?? new FakeClock();
  const sandbox = await startSandbox({ timings: opts.sandboxTimings ?? FAST, clock });
  const metrics = new Metrics({ processMetrics: false });
  const divio = new DivioClient({
    clock,
    token: sandbox.token,
    baseUrl: sandbox.url,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    observer: metrics,
  });
  const config = defaultServerConfig({ pollIntervalMs: 50, confirmMode: 'token', ...opts.config });
  const factory = createServerFactory({
    client: divio,
    config,
    log: silentLogger,
    telemetry: metrics,
    stopWaiting: opts.stopWaiting,
    clock,
  });
  const http = await startHttpServer(factory, {
    host: '127.0.0.1',
    port: 0,
    authToken: AUTH,
    metrics,
    log: silentLogger,
    ...opts.http,
  });
  return {
    sandbox,
    divio,
    metrics,
    http,
    close: async () => {
      await http.close();
      await divio.close();
      await sandbox.close();
    },
  };
}

async function connect(url: string): Promise<Client> {
  const client = new Client(
    { name: 'metrics-test', version: '1' },
    { jsonSchemaValidator: sharedValidator, versionNegotiation: { mode: 'legacy' } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Authorization: `Bearer ${AUTH}` } },
    }),
  );
  return client;
}

const metricsUrl = (r: Running) => r.http.url.replace(/\/mcp$/, '/metrics');

async function scrape(r: Running): Promise<string> {
  const res = await fetch(metricsUrl(r), { headers: { authorization: `Bearer ${AUTH}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = /^[^{]+\{(.*)\} (\S+)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const got = Object.fromEntries([...m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    const keys = Object.keys(labels);
    if (keys.length === Object.keys(got).length && keys.every((k) => got[k] === labels[k]))
      return Number(m[2]);
  }
  return undefined;
}

describe('path templates', () => {
  it('replaces every segment that is not an API name with {id}, and drops the query', () => {
    expect(pathTemplate('/apps/v3/backups/4c5e0b7a-1b2c-4d3e-8f90-0123456789ab/')).toBe(
      '/apps/v3/backups/{id}/',
    );
    expect(pathTemplate('/apps/v3/deployments/abc123XYZ/logs')).toBe('/apps/v3/deployments/{id}/logs');
    expect(pathTemplate('/apps/v3/environments/q7k2m4/logs/?since=2020&search=secret')).toBe(
      '/apps/v3/environments/{id}/logs/',
    );
    expect(pathTemplate('/iam/v3/me/')).toBe('/iam/v3/me/');
    expect(pathTemplate('/apps/v3/shop-slug/')).toBe('/apps/v3/{id}/');
    expect(pathTemplate('/a/b/c/d/e/f/g/h/i/')).toBe('{other}');
  });
});

describe('/metrics on the MCP listener', () => {
  let r: Running;
  let mcp: Client;
  beforeAll(async () => {
    r = await start();
    mcp = await connect(r.http.url);
  });
  afterAll(async () => {
    await mcp?.close();
    await r?.close();
  });

  it('needs the same bearer token as /mcp', async () => {
    const none = await fetch(metricsUrl(r));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await fetch(metricsUrl(r), { headers: { authorization: 'Bearer nope-nope-nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toMatch(/divio_mcp_/);
  });

  it('counts tool calls by tool and outcome, and API requests by path template, without IDs or tokens', async () => {
    const before = await scrape(r);
    expect(sample(before, 'divio_mcp_tool_calls_total', { tool: 'list_applications', outcome: 'ok' })).toBe(
      undefined,
    );
    expect((await mcp.callTool({ name: 'list_applications', arguments: { limit: 2 } })).isError).toBeFalsy();
    expect((await mcp.callTool({ name: 'list_applications', arguments: { limit: 3 } })).isError).toBeFalsy();
    expect((await mcp.callTool({ name: 'get_application', arguments: { app: 'shop' } })).isError).toBeFalsy();
    const missing = await mcp.callTool({ name: 'get_application', arguments: { app: 'no-such-app' } });
    expect(missing.isError).toBe(true);

    const text = await scrape(r);
    expect(sample(text, 'divio_mcp_tool_calls_total', { tool: 'list_applications', outcome: 'ok' })).toBe(2);
    expect(sample(text, 'divio_mcp_tool_calls_total', { tool: 'get_application', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'divio_mcp_tool_calls_total', { tool: 'get_application', outcome: 'error' })).toBe(1);
    expect(sample(text, 'divio_mcp_tool_call_duration_seconds_count', { tool: 'list_applications' })).toBe(2);
    expect(
      sample(text, 'divio_mcp_api_requests_total', {
        method: 'GET',
        path: '/apps/v3/applications/',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(2);
    // get_application reads the application's environments by ID: the ID is templated away.
    const templated = text
      .split('\n')
      .filter((l) => l.startsWith('divio_mcp_api_requests_total{') && l.includes('{id}'));
    expect(templated.length).toBeGreaterThan(0);

    // Every ID or slug the server sent to the API (path segments and query values) stays out of the metrics.
    const sent = new Set<string>();
    for (const entry of r.sandbox.requestLog) {
      for (const segment of entry.path.split('/'))
        if (pathTemplate(`/${segment}/`) === '/{id}/') sent.add(segment);
      for (const value of Object.values(entry.query))
        for (const v of [value].flat()) if (v.length >= 4) sent.add(v);
    }
    expect(sent.size).toBeGreaterThan(0);
    for (const value of sent) expect(text).not.toContain(value);
    expect(text).not.toContain(r.sandbox.token);
    expect(text).not.toContain(AUTH);
  });

  it('counts confirmations by outcome, and a confirmed write as one tool call', async () => {
    const args = { app: 'blog', environment: 'test', name: 'METRICS_TEST', value: '1' };
    const first = await mcp.callTool({ name: 'set_environment_variable', arguments: args });
    const token = (first.structuredContent as { confirmation_token: string }).confirmation_token;
    expect(token).toMatch(/^v1\./);
    const done = await mcp.callTool({
      name: 'set_environment_variable',
      arguments: { ...args, confirm: token },
    });
    expect(done.isError).toBeFalsy();
    const replay = await mcp.callTool({
      name: 'set_environment_variable',
      arguments: { ...args, confirm: token },
    });
    expect(replay.isError).toBe(true);

    const text = await scrape(r);
    const c = (outcome: string) =>
      sample(text, 'divio_mcp_confirmations_total', { tool: 'set_environment_variable', outcome });
    expect(c('token_issued')).toBe(1);
    expect(c('confirmed_by_token')).toBe(1);
    expect(c('refused')).toBe(1);
    const t = (outcome: string) =>
      sample(text, 'divio_mcp_tool_calls_total', { tool: 'set_environment_variable', outcome });
    expect(t('confirmation_required')).toBe(1);
    expect(t('ok')).toBe(1);
    expect(t('error')).toBe(1);
    expect(text).not.toContain(token);
  });

  it('counts retried Divio requests', async () => {
    const path = '/iam/v3/organisations/';
    const count = (text: string, name: string, labels: Record<string, string>) =>
      sample(text, name, { method: 'GET', path, ...labels }) ?? 0;
    const before = await scrape(r);
    r.sandbox.faults.set([{ method: 'GET', path, error: { status: 503 }, count: 1 }]);
    try {
      expect((await mcp.callTool({ name: 'list_organisations', arguments: {} })).isError).toBeFalsy();
    } finally {
      r.sandbox.faults.reset();
    }
    const after = await scrape(r);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      count(after, name, labels) - count(before, name, labels);
    expect(delta('divio_mcp_api_retries_total')).toBe(1);
    expect(delta('divio_mcp_api_requests_total', { status: '503' })).toBe(1);
    expect(delta('divio_mcp_api_requests_total', { status: '200' })).toBe(1);
  });
});

describe('waits in flight', () => {
  it('shows a wait on a long operation while it runs, and not after', async () => {
    // The backup takes ten minutes; the wait ends when the test stops it (as the shutdown drain does).
    const stop = new AbortController();
    const r = await start({
      sandboxTimings: { ...FAST, backupMs: 600_000 },
      stopWaiting: stop.signal,
      clock: new FakeClock({ auto: false }),
    });
    const mcp = await connect(r.http.url);
    try {
      const seen: (number | undefined)[] = [];
      let scraped: Promise<void> | undefined;
      const result = await mcp.callTool(
        { name: 'create_backup', arguments: { app: 'shop', environment: 'test', wait_seconds: 120 } },
        {
          onprogress: () => {
            scraped ??= scrape(r).then((text) => {
              seen.push(sample(text, 'divio_mcp_waits_in_flight', { tool: 'create_backup' }));
              stop.abort();
            });
          },
        } as Parameters<Client['callTool']>[1],
      );
      await scraped;
      expect(result.isError).toBeFalsy();
      expect(seen).toEqual([1]);
      const after = await scrape(r);
      expect(sample(after, 'divio_mcp_waits_in_flight', { tool: 'create_backup' })).toBe(0);
    } finally {
      await mcp.close();
      await r.close();
    }
  });
});

describe('rate-limit rejections', () => {
  it('are counted by reason', async () => {
    const r = await start({ http: { limits: { ...DEFAULT_HTTP_LIMITS, ratePerMinute: 2 } } });
    try {
      const post = () =>
        fetch(r.http.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${AUTH}` },
          body: '{}',
        });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await post()).status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(1);
      // The scrape itself is rate-limited too (before authentication): read the registry directly.
      const text = await r.metrics.render();
      expect(sample(text, 'divio_mcp_http_rejections_total', { reason: 'rate_limit' })).toBe(1);
      expect(sample(text, 'divio_mcp_http_rejections_total', { reason: 'client_calls' })).toBe(0);
    } finally {
      await r.close();
    }
  });
});

describe('--metrics-port: a separate loopback listener', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start({ http: { metricsPort: 0 } });
  });
  afterAll(async () => {
    await r?.close();
  });

  it('serves /metrics on 127.0.0.1 without authentication, and not on the MCP port', async () => {
    const url = r.http.metricsUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(url ?? '').port).not.toBe(new URL(r.http.url).port);
    const mcp = await connect(r.http.url);
    try {
      await mcp.callTool({ name: 'list_applications', arguments: {} });
    } finally {
      await mcp.close();
    }
    const res = await fetch(url ?? '');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'divio_mcp_tool_calls_total', { tool: 'list_applications', outcome: 'ok' })).toBe(1);
    const onMain = await fetch(metricsUrl(r), { headers: { authorization: `Bearer ${AUTH}` } });
    expect(onMain.status).toBe(404);
    expect((await fetch((url ?? '').replace(/\/metrics$/, '/mcp'))).status).toBe(404);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const u = new URL(r.http.metricsUrl ?? '');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: u.hostname, port: u.port, path: '/metrics', headers: { host: 'evil.example' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
