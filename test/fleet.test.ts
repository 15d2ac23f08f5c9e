import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import { type FleetOverviewOut, fleetOverview, limiter } from '../src/domain/fleet.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

type Row = FleetOverviewOut['rows'][number];

describe('limiter', () => {
  it('never runs more than its cap at once, and runs every task', async () => {
    const run = limiter(3);
    let active = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((r) => release.push(r));
        active--;
        return i;
      }),
    );
    // Let queued tasks start, then release them one by one; a new caller arriving meanwhile must queue too.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setImmediate(r));
      expect(active).toBeLessThanOrEqual(3);
      release.shift()?.();
      void run(async () => {
        active++;
        peak = Math.max(peak, active);
        active--;
      });
    }
    expect(await Promise.all(tasks)).toEqual([...Array(10).keys()]);
    expect(peak).toBe(3);
  });
});

describe('fleetOverview against the sandbox through a counting proxy', () => {
  let sb: Sandbox;
  let proxy: Server;
  let client: DivioClient;
  let inFlight = 0;
  let peak = 0;
  let requests = 0;
  beforeAll(async () => {
    sb = await startSandbox();
    // Each request is held a little so parallel ones overlap at the proxy whatever the machine's load.
    proxy = createServer((req, res) => {
      inFlight++;
      requests++;
      peak = Math.max(peak, inFlight);
      setTimeout(async () => {
        const upstream = await fetch(`${sb.url}${req.url}`, {
          headers: { authorization: String(req.headers.authorization ?? '') },
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        inFlight--;
        res.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
        });
        res.end(body);
      }, 15);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    client = new DivioClient({
      token: sb.token,
      baseUrl: `http://127.0.0.1:${port}`,
      retry: { maxRetries: 0 },
    });
  });
  afterAll(async () => {
    await client.close();
    await new Promise<void>((r) => proxy.close(() => r()));
    await sb.close();
  });

  it('fans the calls out in parallel but never past the cap', async () => {
    peak = 0;
    requests = 0;
    const out = await fleetOverview(client, {
      since: new Date(Date.now() - 3_600_000),
      now: Date.now(),
      signal: new AbortController().signal,
      concurrency: 4,
    });
    expect(out.rows).toHaveLength(11);
    expect(requests).toBeGreaterThan(20);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
  });

  it('caps a large fleet and says so', async () => {
    const out = await fleetOverview(client, {
      since: new Date(Date.now() - 3_600_000),
      now: Date.now(),
      signal: new AbortController().signal,
      maxEnvironments: 3,
    });
    expect(out.rows).toHaveLength(3);
    expect(out.environments_total).toBe(11);
    expect(out.note).toContain('11 environments in all; only the first 3');
  });
});

describe('get_fleet_overview through a real MCP client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  const rowOf = (out: FleetOverviewOut, key: string) =>
    out.rows.find((r) => `${r.app}/${r.environment}` === key) as Row;

  it('one row per environment, findings first, the failing ones on top', async () => {
    const r = await h.call('get_fleet_overview', {});
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as unknown as FleetOverviewOut;
    expect(out.rows).toHaveLength(11);
    const shop = rowOf(out, 'shop/live');
    expect(shop.status).toBe('failing');
    expect(shop.last_deploy).toMatchObject({ result: 'failed', live: false });
    expect(shop.serving_deployment).not.toBeNull();
    expect(shop.errors?.count).toBeGreaterThanOrEqual(20);
    expect(rowOf(out, 'intranet/live').last_successful_backup).toBeNull();
    expect(rowOf(out, 'intranet/live').status).toBe('failing');
    expect(rowOf(out, 'intranet/test').unprovisioned_services).toEqual(['STORAGE DEFAULT']);
    expect(rowOf(out, 'marketing-site/live').last_successful_backup?.age_hours).toBeGreaterThan(0);
    const statuses = out.rows.map((x) => x.status);
    expect(statuses.indexOf('failing')).toBe(0);
    expect(statuses.lastIndexOf('failing')).toBeLessThan(
      statuses.indexOf('healthy') === -1 ? 99 : statuses.indexOf('healthy'),
    );
    expect(out.findings[0]?.severity).toBe('error');
    const text = textOf(r);
    expect(text.indexOf('Findings:')).toBeLessThan(text.indexOf('Environments:'));
    expect(text).toContain('shop/live [production]: FAILING');
  });

  it('narrows to an organisation by name', async () => {
    const r = await h.call('get_fleet_overview', { organisation: 'globex labs' });
    const out = r.structuredContent as unknown as FleetOverviewOut;
    expect(out.organisation).toBe('Globex Labs');
    expect(new Set(out.rows.map((x) => x.app))).toEqual(new Set(['intranet', 'marketing-site']));
    const bad = await h.call('get_fleet_overview', { organisation: 'Initech' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain('Acme Corp');
  });

  it('an environment that cannot be read is reported in its row, the rest still answer', async () => {
    const env = h.sandbox.state.environmentBySlug('blog', 'live');
    h.sandbox.faults.set({
      rules: [{ path: `/apps/v3/environments/${env?.uuid}/logs/`, error: { status: 503 } }],
    });
    try {
      const r = await h.call('get_fleet_overview', {});
      expect(r.isError, textOf(r)).toBeFalsy();
      const out = r.structuredContent as unknown as FleetOverviewOut;
      const blog = rowOf(out, 'blog/live');
      expect(blog.errors).toBeNull();
      expect(blog.unreadable.join(' ')).toContain('runtime logs');
      expect(rowOf(out, 'shop/live').errors).not.toBeNull();
    } finally {
      h.sandbox.faults.set({ rules: [] });
    }
  });
});
