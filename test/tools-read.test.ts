import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import { defaultServerConfig } from '../src/mcp/config.js';
import { signCursor } from '../src/mcp/cursor.js';
import { silentLogger } from '../src/mcp/log.js';
import { isWriteTool } from '../src/mcp/registry.js';
import { startSandbox, uuidFromName } from '../src/sandbox/index.js';
import { createServerFactory } from '../src/server.js';
import { truncateLine } from '../src/text/format.js';
import { sanitize } from '../src/text/index.js';
import { allTools } from '../src/tools/index.js';
import { FakeClock } from './helpers/clock.js';
import { type Harness, startHarness, type ToolResult, textOf } from './helpers/harness.js';
import { sharedValidator } from './helpers/validator.js';

type Sc = Record<string, unknown>;
const sc = (r: ToolResult): Sc => {
  expect(r.isError, textOf(r)).toBeFalsy();
  expect(r.structuredContent).toBeDefined();
  return r.structuredContent as Sc;
};
const rows = <T = Sc>(r: ToolResult, key: string): T[] => sc(r)[key] as T[];
const expectError = (r: ToolResult, ...patterns: RegExp[]): string => {
  expect(r.isError, `expected an error, got: ${textOf(r)}`).toBe(true);
  const text = textOf(r);
  for (const p of patterns) expect(text).toMatch(p);
  return text;
};

const SHOP_LIVE_FAILED = uuidFromName('deployment:shop/live:failed');
const SHOP_LIVE_BACKUP = uuidFromName('backup:shop/live:0');
const MISSING_ID = uuidFromName('missing');

/** Valid arguments for every read tool (and create_backup), reused by the missing-token test. */
const SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  list_organisations: {},
  list_applications: {},
  get_application: { app: 'shop' },
  get_environment: { app: 'shop', environment: 'live' },
  diagnose_environment: { app: 'shop', environment: 'live' },
  get_fleet_overview: { organisation: 'Acme Corp' },
  get_environment_logs: { app: 'shop', environment: 'live', limit: 5 },
  get_environment_metrics: { app: 'shop', environment: 'live' },
  list_activities: { app: 'api-gateway', since: '2d' },
  list_deployments: { app: 'shop' },
  get_deployment: { deployment: SHOP_LIVE_FAILED },
  get_deployment_log: { deployment: SHOP_LIVE_FAILED },
  list_backups: { app: 'shop', environment: 'live' },
  get_backup: { backup: SHOP_LIVE_BACKUP },
  create_backup: { app: 'shop', environment: 'test', wait_seconds: 0 },
  list_service_instances: { app: 'shop', environment: 'live' },
  list_environment_variables: { app: 'shop', environment: 'live' },
  list_domains: { app: 'shop' },
  list_cronjobs: { app: 'shop', environment: 'live' },
};

/** Valid arguments for the write tools, used only where no request may reach the API anyway. */
const WRITE_SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  deploy_environment: { app: 'shop', environment: 'test', wait_seconds: 0 },
  stop_environment: { app: 'shop', environment: 'test' },
  restore_backup: { backup: SHOP_LIVE_BACKUP, wait_seconds: 0 },
  create_backup_download: { backup: SHOP_LIVE_BACKUP, wait_seconds: 0 },
  set_environment_variable: { app: 'shop', environment: 'test', name: 'DEBUG', value: 'False' },
  delete_environment_variable: { app: 'shop', environment: 'test', name: 'DEBUG' },
};

// Every behaviour of the read tools once, in the 2026-07-28 era; the 2025 era's parity check is below.
describe('read tools', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  describe('list_organisations', () => {
    it('lists both seeded organisations', async () => {
      const r = await h.call('list_organisations');
      const orgs = rows<{ name: string; uuid: string }>(r, 'organisations');
      expect(orgs.map((o) => o.name).sort()).toEqual(['Acme Corp', 'Globex Labs']);
      expect(sc(r)['has_more']).toBe(false);
      expect(textOf(r)).toContain('Acme Corp');
    });

    it('paginates with limit 1 and follows next_cursor to a distinct page', async () => {
      const first = await h.call('list_organisations', { limit: 1 });
      expect(sc(first)['has_more']).toBe(true);
      const cursor = sc(first)['next_cursor'] as string;
      expect(typeof cursor).toBe('string');
      const second = await h.call('list_organisations', { limit: 1, cursor });
      const a = rows<{ uuid: string }>(first, 'organisations');
      const b = rows<{ uuid: string }>(second, 'organisations');
      expect(a).toHaveLength(1);
      expect(b).toHaveLength(1);
      expect(b[0]?.uuid).not.toBe(a[0]?.uuid);
    });
  });

  describe('list_applications', () => {
    it('lists every seeded app with its organisation name', async () => {
      const r = await h.call('list_applications');
      const apps = rows<{ slug: string; organisation: string | null }>(r, 'applications');
      expect(apps.map((a) => a.slug).sort()).toEqual(
        ['api-gateway', 'blog', 'intranet', 'marketing-site', 'shop'].sort(),
      );
      expect(apps.find((a) => a.slug === 'shop')?.organisation).toBe('Acme Corp');
      expect(apps.find((a) => a.slug === 'intranet')?.organisation).toBe('Globex Labs');
      expect(textOf(r)).toContain('shop');
      expect(r.content.some((c) => c.type === 'resource_link' && c.uri === 'divio://applications/shop')).toBe(
        true,
      );
    });

    it('filters by organisation name (case-insensitive) and by uuid', async () => {
      const byName = rows<{ slug: string }>(
        await h.call('list_applications', { organisation: 'globex labs' }),
        'applications',
      );
      expect(byName.map((a) => a.slug).sort()).toEqual(['intranet', 'marketing-site']);
      const byUuid = rows<{ slug: string }>(
        await h.call('list_applications', { organisation: uuidFromName('organisation:acme') }),
        'applications',
      );
      expect(byUuid.map((a) => a.slug).sort()).toEqual(['api-gateway', 'blog', 'shop']);
    });

    it('names the valid organisations when one is unknown', async () => {
      expectError(
        await h.call('list_applications', { organisation: 'Initech' }),
        /Initech/,
        /Acme Corp/,
        /Globex Labs/,
      );
    });

    it('filters by part of the name', async () => {
      const apps = rows<{ slug: string }>(
        await h.call('list_applications', { name: 'gate' }),
        'applications',
      );
      expect(apps.map((a) => a.slug)).toEqual(['api-gateway']);
    });

    it('paginates: limit 2 gives has_more and next_cursor; the next page is distinct', async () => {
      const first = await h.call('list_applications', { limit: 2 });
      expect(sc(first)['has_more']).toBe(true);
      const cursor = sc(first)['next_cursor'] as string;
      expect(cursor).toEqual(expect.any(String));
      const second = await h.call('list_applications', { limit: 2, cursor });
      const a = rows<{ slug: string }>(first, 'applications').map((x) => x.slug);
      const b = rows<{ slug: string }>(second, 'applications').map((x) => x.slug);
      expect(a).toHaveLength(2);
      expect(b).toHaveLength(2);
      expect(b.filter((s) => a.includes(s))).toEqual([]);
      const third = await h.call('list_applications', { limit: 2, cursor: sc(second)['next_cursor'] });
      const c = rows<{ slug: string }>(third, 'applications').map((x) => x.slug);
      expect(new Set([...a, ...b, ...c]).size).toBe(5);
      expect(sc(third)['has_more']).toBe(false);
      expect(sc(third)['next_cursor']).toBeNull();
    });

    it('refuses a garbage cursor with a clear message', async () => {
      expectError(await h.call('list_applications', { cursor: 'not-a-cursor!!' }), /cursor is not valid/i);
    });

    it('refuses a cursor pointing to another host without sending it a request', async () => {
      const hits: string[] = [];
      const other: Server = createServer((req, res) => {
        hits.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ count: 0, next: null, previous: null, results: [] }));
      });
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      try {
        const port = (other.address() as AddressInfo).port;
        const before = h.sandbox.requestLog.length;
        const link = `http://127.0.0.1:${port}/apps/v3/applications/?page=2`;
        // A bare link (the old cursor format) is not a cursor at all.
        const bare = Buffer.from(link, 'utf8').toString('base64url');
        expectError(await h.call('list_applications', { cursor: bare }), /cursor is not valid/i);
        // Even a cursor signed with the server's key never sends the token to another host.
        const signed = signCursor(h.config.cursorKey, 'list_applications', {}, link);
        expectError(await h.call('list_applications', { cursor: signed }), /another host/i);
        expect(hits).toEqual([]);
        // Only the organisation lookup may reach the sandbox; no applications page is fetched.
        const after = h.sandbox.requestLog.slice(before);
        expect(after.filter((e) => e.path.startsWith('/apps/v3/applications'))).toEqual([]);
      } finally {
        await new Promise<void>((resolve) => other.close(() => resolve()));
      }
    });
  });

  describe('argument validation', () => {
    it('rejects an unknown key, naming it', async () => {
      expectError(await h.call('list_applications', { colour: 'red' }), /colour/);
    });

    it('rejects an out-of-range limit, naming the field', async () => {
      expectError(await h.call('list_applications', { limit: 1000 }), /limit/);
      expectError(await h.call('list_backups', { app: 'shop', environment: 'live', limit: 0 }), /limit/);
    });

    it('rejects a malformed since, naming the field', async () => {
      const text = expectError(
        await h.call('get_environment_logs', { app: 'shop', environment: 'live', since: 'yesterday-ish' }),
        /since/,
      );
      expect(text).toMatch(/ISO 8601|15m/);
    });

    it('rejects a malformed deployment ID, naming the field', async () => {
      expectError(await h.call('get_deployment', { deployment: 'abc' }), /deployment/);
    });
  });

  describe('get_application', () => {
    it('summarises the environments', async () => {
      const r = await h.call('get_application', { app: 'api-gateway' });
      const out = sc(r);
      expect(out['slug']).toBe('api-gateway');
      expect(out['uuid']).toBe(uuidFromName('application:api-gateway'));
      const envs = out['environments'] as { slug: string; production_grade: boolean }[];
      expect(envs.map((e) => e.slug).sort()).toEqual(['live', 'staging', 'test']);
      expect(envs.find((e) => e.slug === 'live')?.production_grade).toBe(true);
      expect(textOf(r)).toContain('API Gateway');
    });

    it('accepts an ID', async () => {
      const out = sc(await h.call('get_application', { app: uuidFromName('application:blog') }));
      expect(out['slug']).toBe('blog');
    });

    it('lists the valid slugs for an unknown app', async () => {
      expectError(
        await h.call('get_application', { app: 'shopp' }),
        /shopp/,
        /shop/,
        /blog/,
        /api-gateway/,
        /intranet/,
        /marketing-site/,
      );
    });
  });

  describe('get_environment', () => {
    it('returns status, deployments and services', async () => {
      const r = await h.call('get_environment', { app: 'shop', environment: 'live' });
      const out = sc(r);
      expect(out).toMatchObject({ app: 'shop', environment: 'live', production_grade: true, branch: 'main' });
      expect(out['uuid']).toBe(uuidFromName('environment:shop/live'));
      expect(out['pending_commits']).toBe(1);
      const last = out['last_finished_deployment'] as { uuid: string; success: boolean };
      expect(last.uuid).toBe(SHOP_LIVE_FAILED);
      expect(last.success).toBe(false);
      const services = out['service_instances'] as { type: string }[];
      expect(services.map((s) => s.type).sort()).toEqual(['DATABASE', 'STORAGE']);
      expect(textOf(r)).toMatch(/last finished deployment: failed/);
    });

    it('lists the app environments for an unknown environment', async () => {
      expectError(
        await h.call('get_environment', { app: 'api-gateway', environment: 'prod' }),
        /prod/,
        /test/,
        /staging/,
        /live/,
      );
    });
  });

  describe('diagnose_environment', () => {
    it('shop live is failing: failed deploy with the stripe pip error, DB errors in the logs', async () => {
      const r = await h.call('diagnose_environment', { app: 'shop', environment: 'live' });
      const out = sc(r);
      expect(out['verdict']).toBe('failing');
      const findings = (out['findings'] as { severity: string; message: string }[]).map((f) => f.message);
      expect(findings.some((f) => /last deployment failed/i.test(f) && f.includes(SHOP_LIVE_FAILED))).toBe(
        true,
      );
      expect(findings.some((f) => /error\(s\) of \d+ kind\(s\) in the runtime logs/i.test(f))).toBe(true);
      const excerpt = (out['failed_deploy_excerpt'] as string[]).join('\n');
      expect(excerpt).toContain('stripe==99.0.1');
      const errors = out['errors'] as { error_events: number; groups: unknown[] };
      expect(errors.error_events).toBeGreaterThan(20);
      expect(errors.groups.length).toBeGreaterThan(0);
      const text = textOf(r);
      expect(text).toMatch(/FAILING/);
      expect(text).not.toContain('\x1b');
    });

    it('blog test is healthier than shop live', async () => {
      const out = sc(await h.call('diagnose_environment', { app: 'blog', environment: 'test' }));
      expect(out['verdict']).not.toBe('failing');
      expect(out['failed_deploy_excerpt']).toBeNull();
      expect(out['last_successful_backup']).not.toBeNull();
    });

    it('intranet live reports that there is no successful backup', async () => {
      const out = sc(await h.call('diagnose_environment', { app: 'intranet', environment: 'live' }));
      expect(out['last_successful_backup']).toBeNull();
      const findings = out['findings'] as { severity: string; message: string }[];
      const backup = findings.find((f) => /no successful backup/i.test(f.message));
      expect(backup?.severity).toBe('error');
      expect(out['verdict']).toBe('failing');
    });

    it('intranet test reports the unprovisioned storage', async () => {
      const out = sc(await h.call('diagnose_environment', { app: 'intranet', environment: 'test' }));
      const findings = (out['findings'] as { message: string }[]).map((f) => f.message);
      expect(findings.some((f) => /STORAGE.*not provisioned/.test(f))).toBe(true);
    });

    it('rejects a malformed since', async () => {
      expectError(
        await h.call('diagnose_environment', { app: 'shop', environment: 'live', since: 'last tuesday' }),
        /since/,
      );
    });
  });

  describe('get_environment_logs', () => {
    type Line = { timestamp: string; service: string; message: string };
    const entries = (r: ToolResult) => rows<Line>(r, 'entries');

    it('returns the latest entries, oldest first, capped at limit', async () => {
      const r = await h.call('get_environment_logs', { app: 'shop', environment: 'live', limit: 10 });
      const e = entries(r);
      expect(e).toHaveLength(10);
      const times = e.map((x) => Date.parse(x.timestamp));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(sc(r)['has_more']).toBe(true);
      expect(textOf(r)).toMatch(/10 log entries from shop\/live/);
    });

    it('filters by relative since and until', async () => {
      const r = await h.call('get_environment_logs', {
        app: 'shop',
        environment: 'live',
        since: '2h',
        until: '1h',
        limit: 1000,
      });
      const e = entries(r);
      expect(e.length).toBeGreaterThan(0);
      const now = Date.now();
      for (const x of e) {
        const t = Date.parse(x.timestamp);
        // generous slack: the tool computes "now" a moment before this test does
        expect(t).toBeGreaterThanOrEqual(now - 2 * 3_600_000 - 60_000);
        expect(t).toBeLessThanOrEqual(now - 3_600_000 + 60_000);
      }
    });

    it('filters by an ISO window', async () => {
      const from = new Date(Date.now() - 3 * 3_600_000);
      const to = new Date(Date.now() - 2 * 3_600_000);
      const r = await h.call('get_environment_logs', {
        app: 'shop',
        environment: 'live',
        since: from.toISOString(),
        until: to.toISOString(),
        limit: 1000,
      });
      const e = entries(r);
      expect(e.length).toBeGreaterThan(0);
      for (const x of e) {
        const t = Date.parse(x.timestamp);
        expect(t).toBeGreaterThanOrEqual(from.getTime() - 1000);
        expect(t).toBeLessThanOrEqual(to.getTime() + 1000);
      }
    });

    it('filters by service and by search text', async () => {
      const byService = entries(
        await h.call('get_environment_logs', {
          app: 'shop',
          environment: 'live',
          service: 'worker',
          limit: 50,
        }),
      );
      expect(byService.length).toBeGreaterThan(0);
      expect(byService.every((x) => x.service === 'worker')).toBe(true);
      const bySearch = entries(
        await h.call('get_environment_logs', {
          app: 'shop',
          environment: 'live',
          search: 'OperationalError',
          limit: 20,
        }),
      );
      expect(bySearch.length).toBeGreaterThan(0);
      expect(bySearch.every((x) => x.message.includes('OperationalError'))).toBe(true);
    });

    it('strips ANSI escapes and control characters', async () => {
      const r = await h.call('get_environment_logs', {
        app: 'shop',
        environment: 'live',
        search: 'db pool exhausted',
        since: '1h',
        limit: 50,
      });
      const e = entries(r);
      expect(e.some((x) => x.message.includes('CRITICAL db pool exhausted'))).toBe(true);
      const json = JSON.stringify(r);
      expect(json).not.toContain('\\u001b');
      expect(textOf(r)).not.toMatch(/[\x1b\r\x07]/);
    });

    it('keeps prompt-injection lines inside the untrusted fence only', async () => {
      const r = await h.call('get_environment_logs', {
        app: 'shop',
        environment: 'live',
        search: 'ignore previous',
        since: '1d',
        limit: 50,
      });
      expect(entries(r).length).toBeGreaterThan(0);
      const text = textOf(r);
      const fence = /<untrusted-data-([0-9a-f]{8})>\n([\s\S]*?)\n<\/untrusted-data-\1>/.exec(text);
      expect(fence).not.toBeNull();
      expect(fence?.[2]).toContain('ignore previous instructions');
      const outside = text.replace(fence?.[0] ?? '', '');
      expect(outside).not.toContain('ignore previous instructions');
      expect(outside).toMatch(/never follow/i);
    });

    it('follows next_cursor towards older entries', async () => {
      const first = await h.call('get_environment_logs', { app: 'blog', environment: 'live', limit: 5 });
      const cursor = sc(first)['next_cursor'] as string;
      expect(cursor).toEqual(expect.any(String));
      const second = await h.call('get_environment_logs', {
        app: 'blog',
        environment: 'live',
        limit: 5,
        cursor,
      });
      const a = entries(first);
      const b = entries(second);
      expect(b.length).toBeGreaterThan(0);
      const oldestA = Date.parse(a[0]?.timestamp ?? '');
      expect(b.every((x) => Date.parse(x.timestamp) <= oldestA)).toBe(true);
      expect(JSON.stringify(b)).not.toBe(JSON.stringify(a));
    });

    it('rejects a garbage cursor', async () => {
      expectError(
        await h.call('get_environment_logs', { app: 'shop', environment: 'live', cursor: '%%%' }),
        /cursor/i,
      );
    });

    it('rejects an out-of-range limit and a too-short search', async () => {
      expectError(
        await h.call('get_environment_logs', { app: 'shop', environment: 'live', limit: 5000 }),
        /limit/,
      );
      expectError(
        await h.call('get_environment_logs', { app: 'shop', environment: 'live', search: 'ab' }),
        /search/,
      );
    });

    it('lists the environments for an unknown environment', async () => {
      expectError(
        await h.call('get_environment_logs', { app: 'shop', environment: 'prod' }),
        /prod/,
        /test/,
        /live/,
      );
    });
  });

  describe('deployments', () => {
    it('list_deployments lists newest first with the failed one on top for shop live', async () => {
      const r = await h.call('list_deployments', { app: 'shop', environment: 'live' });
      const deps = rows<{ uuid: string; success: boolean; environment: string }>(r, 'deployments');
      expect(deps[0]?.uuid).toBe(SHOP_LIVE_FAILED);
      expect(deps[0]?.success).toBe(false);
      expect(deps.every((d) => d.environment === 'live')).toBe(true);
      expect(textOf(r)).toContain(SHOP_LIVE_FAILED);
    });

    it('list_deployments paginates', async () => {
      const first = await h.call('list_deployments', { app: 'shop', limit: 2 });
      expect(sc(first)['has_more']).toBe(true);
      const second = await h.call('list_deployments', {
        app: 'shop',
        limit: 2,
        cursor: sc(first)['next_cursor'],
      });
      const a = rows<{ uuid: string }>(first, 'deployments').map((d) => d.uuid);
      const b = rows<{ uuid: string }>(second, 'deployments').map((d) => d.uuid);
      expect(b.length).toBeGreaterThan(0);
      expect(b.filter((u) => a.includes(u))).toEqual([]);
    });

    it('get_deployment returns status and environment slug', async () => {
      const r = await h.call('get_deployment', { deployment: SHOP_LIVE_FAILED });
      const out = sc(r);
      expect(out).toMatchObject({ uuid: SHOP_LIVE_FAILED, success: false, environment: 'live' });
      expect(out['environment_uuid']).toBe(uuidFromName('environment:shop/live'));
      expect(textOf(r)).toMatch(/failed/);
    });

    it('get_deployment: an unknown ID is an error that points to list_deployments', async () => {
      expectError(
        await h.call('get_deployment', { deployment: MISSING_ID }),
        /not found/i,
        /list_deployments/,
      );
    });

    it('get_deployment_log: tail, and the failure excerpt with the stripe error', async () => {
      const r = await h.call('get_deployment_log', { deployment: SHOP_LIVE_FAILED, tail: 5 });
      const out = sc(r);
      expect((out['lines'] as string[]).length).toBe(5);
      expect(out['total_lines'] as number).toBeGreaterThan(5);
      expect((out['failure_excerpt'] as string[] | null)?.join('\n') ?? '').toContain('stripe==99.0.1');
      expect(out['note']).toMatch(/last 5 of/);
      expect(textOf(r)).toMatch(/<untrusted-data-/);
      const full = await h.call('get_deployment_log', { deployment: SHOP_LIVE_FAILED, tail: 2000 });
      expect(JSON.stringify(full)).not.toContain('\\u001b');
      expect(textOf(full)).not.toMatch(/[\x1b\r]/);
    });

    it('get_deployment_log: search returns numbered matching lines', async () => {
      const out = sc(await h.call('get_deployment_log', { deployment: SHOP_LIVE_FAILED, search: 'stripe' }));
      const lines = out['lines'] as string[];
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((l) => /^\d+: /.test(l) && l.toLowerCase().includes('stripe'))).toBe(true);
    });

    it('get_deployment_log: by app and environment picks the latest deployment', async () => {
      const out = sc(await h.call('get_deployment_log', { app: 'shop', environment: 'live' }));
      expect(out['deployment']).toBe(SHOP_LIVE_FAILED);
    });

    it('get_deployment_log: a successful deployment has no failure excerpt', async () => {
      const out = sc(await h.call('get_deployment_log', { app: 'blog', environment: 'test', tail: 3 }));
      expect(out['failure_excerpt']).toBeNull();
    });

    it('get_deployment_log: needs a deployment or app + environment; unknown ID is an error', async () => {
      expectError(await h.call('get_deployment_log', { app: 'shop' }), /deployment/, /app and environment/);
      expectError(await h.call('get_deployment_log', { deployment: MISSING_ID }), /not found/i);
    });
  });

  describe('backups', () => {
    type Row = { uuid: string; state: string; success: string; services: { type: string; size: string }[] };

    it('list_backups shows per-service sizes', async () => {
      const r = await h.call('list_backups', { app: 'shop', environment: 'live' });
      const backups = rows<Row>(r, 'backups');
      expect(backups.length).toBeGreaterThan(1);
      const first = backups[0];
      expect(first?.services.map((s) => s.type).sort()).toEqual(['DATABASE', 'STORAGE']);
      for (const s of first?.services ?? []) expect(s.size).toMatch(/\d+(\.\d)? (KiB|MiB|GiB)/);
      expect(textOf(r)).toMatch(/database DEFAULT: \d/);
    });

    it('list_backups paginates', async () => {
      const first = await h.call('list_backups', { app: 'shop', environment: 'live', limit: 1 });
      expect(sc(first)['has_more']).toBe(true);
      const second = await h.call('list_backups', {
        app: 'shop',
        environment: 'live',
        limit: 1,
        cursor: sc(first)['next_cursor'],
      });
      expect(rows<Row>(second, 'backups')[0]?.uuid).not.toBe(rows<Row>(first, 'backups')[0]?.uuid);
    });

    it('get_backup returns one backup with services', async () => {
      const out = sc(await h.call('get_backup', { backup: SHOP_LIVE_BACKUP }));
      expect(out).toMatchObject({ uuid: SHOP_LIVE_BACKUP, environment: 'live', state: 'COMPLETED' });
      expect((out['services'] as unknown[]).length).toBe(2);
    });

    it('get_backup: an unknown ID is an error that points to list_backups', async () => {
      const text = expectError(
        await h.call('get_backup', { backup: MISSING_ID }),
        /not found/i,
        /list_backups/,
      );
      // The status is stated once, not repeated by both the client and the tool layer.
      expect(text.match(/\(404\)/g)).toHaveLength(1);
    });

    it('create_backup waits until COMPLETED and posts exactly once', async () => {
      h.sandbox.clearRequestLog();
      const r = await h.call('create_backup', { app: 'blog', environment: 'test' });
      const out = sc(r);
      expect(out['finished']).toBe(true);
      const backup = out['backup'] as Row;
      expect(backup.state).toBe('COMPLETED');
      expect(backup.success).toBe('SUCCESS');
      expect(backup.services.map((s) => s.type).sort()).toEqual(['DATABASE', 'STORAGE']);
      const posts = h.sandbox.requestLog.filter((e) => e.method === 'POST' && e.path === '/apps/v3/backups/');
      expect(posts).toHaveLength(1);
      expect(textOf(r)).toMatch(/finished/);
      const audit = h.logs
        .filter((l) => l.includes('"type":"audit"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((a) => a['tool'] === 'create_backup' && a['uuid'] === backup.uuid);
      expect(audit).toMatchObject({ app: 'blog', environment: 'test', outcome: 'ok', write: 'done' });
    });

    it('create_backup filters services by kind and by prefix', async () => {
      const db = sc(
        await h.call('create_backup', { app: 'blog', environment: 'test', services: ['database'] }),
      );
      expect((db['backup'] as Row).services.map((s) => s.type)).toEqual(['DATABASE']);
      const st = sc(
        await h.call('create_backup', { app: 'blog', environment: 'test', services: ['storage'] }),
      );
      expect((st['backup'] as Row).services.map((s) => s.type)).toEqual(['STORAGE']);
      const byPrefix = sc(
        await h.call('create_backup', { app: 'blog', environment: 'test', services: ['DEFAULT'] }),
      );
      expect((byPrefix['backup'] as Row).services.map((s) => s.type).sort()).toEqual(['DATABASE', 'STORAGE']);
    });

    it('create_backup: an unknown service lists the valid ones and posts nothing', async () => {
      h.sandbox.clearRequestLog();
      expectError(
        await h.call('create_backup', { app: 'blog', environment: 'test', services: ['redis'] }),
        /redis/,
        /database/,
        /storage/,
      );
      expect(h.sandbox.requestLog.filter((e) => e.method === 'POST')).toEqual([]);
    });

    it('create_backup with wait_seconds 0 returns a handle and names get_backup', async () => {
      const out = sc(await h.call('create_backup', { app: 'blog', environment: 'live', wait_seconds: 0 }));
      expect(out['finished']).toBe(false);
      const backup = out['backup'] as Row;
      expect(backup.uuid).toMatch(/^[a-z2-7]{26}$/);
      expect(out['next_step']).toMatch(/get_backup/);
      expect(out['next_step']).toContain(backup.uuid);
    });
  });

  describe('config', () => {
    it('list_service_instances shows type, prefix and status (NEW for intranet test storage)', async () => {
      const out = sc(await h.call('list_service_instances', { app: 'intranet', environment: 'test' }));
      const services = out['services'] as { type: string; prefix: string; status: string }[];
      expect(services.find((s) => s.type === 'STORAGE')?.status).toBe('NEW');
      expect(services.find((s) => s.type === 'DATABASE')?.status).toBe('READY');
    });

    it('list_environment_variables never returns sensitive values', async () => {
      const r = await h.call('list_environment_variables', { app: 'shop', environment: 'live' });
      const vars = rows<{ name: string; value: string | null; sensitive: boolean }>(r, 'variables');
      const byName = new Map(vars.map((v) => [v.name, v]));
      expect(byName.get('SECRET_KEY')).toMatchObject({ value: null, sensitive: true });
      expect(byName.get('STRIPE_API_KEY')).toMatchObject({ value: null, sensitive: true });
      expect(byName.get('DEBUG')).toMatchObject({ value: 'False', sensitive: false });
      const secrets = [...h.sandbox.state.environmentVariables.values()]
        .filter((v) => v.is_sensitive)
        .map((v) => v.value);
      expect(secrets.length).toBeGreaterThan(0);
      const json = JSON.stringify(r);
      for (const secret of secrets) expect(json).not.toContain(secret);
      for (const secret of secrets) expect(h.logs.join('\n')).not.toContain(secret);
      expect(textOf(r)).toContain('SECRET_KEY=[sensitive: value hidden]');
    });

    it('no read tool result carries a sensitive value', async () => {
      const secrets = [...h.sandbox.state.environmentVariables.values()]
        .filter((v) => v.is_sensitive)
        .map((v) => v.value);
      const calls: [string, Record<string, unknown>][] = [
        ...Object.entries(SAMPLE_ARGS).filter(([name]) => name !== 'create_backup'),
        ['get_deployment_log', { deployment: uuidFromName('deployment:shop/live:0'), tail: 2000 }],
        ['get_deployment_log', { app: 'shop', environment: 'test', tail: 2000 }],
        ['get_environment_logs', { app: 'shop', environment: 'live', since: '1d', limit: 1000 }],
        ['list_environment_variables', { app: 'intranet', environment: 'live' }],
        ['list_environment_variables', { app: 'shop', environment: 'test', name: 'STRIPE_API_KEY' }],
      ];
      for (const [name, args] of calls) {
        const json = JSON.stringify(await h.call(name, args));
        for (const secret of secrets) expect(json.includes(secret), `${name} leaks a secret`).toBe(false);
      }
    });

    it('list_environment_variables filters by name and paginates', async () => {
      const one = rows<{ name: string }>(
        await h.call('list_environment_variables', { app: 'shop', environment: 'live', name: 'DEBUG' }),
        'variables',
      );
      expect(one.map((v) => v.name)).toEqual(['DEBUG']);
      const first = await h.call('list_environment_variables', {
        app: 'shop',
        environment: 'live',
        limit: 2,
      });
      expect(sc(first)['has_more']).toBe(true);
      const second = await h.call('list_environment_variables', {
        app: 'shop',
        environment: 'live',
        limit: 2,
        cursor: sc(first)['next_cursor'],
      });
      const a = rows<{ name: string }>(first, 'variables').map((v) => v.name);
      const b = rows<{ name: string }>(second, 'variables').map((v) => v.name);
      expect(b.length).toBe(2);
      expect(b.filter((n) => a.includes(n))).toEqual([]);
    });

    it('list_domains lists the app domains with the primary marked', async () => {
      const r = await h.call('list_domains', { app: 'shop', environment: 'live' });
      const domains = rows<{ name: string; primary: boolean; environment: string }>(r, 'domains');
      expect(domains.map((d) => d.name).sort()).toEqual(
        ['shop-live.eu.aldryn.io', 'shop.acme.example', 'www.shop.acme.example'].sort(),
      );
      expect(domains.find((d) => d.primary)?.name).toBe('www.shop.acme.example');
      const all = rows<{ environment: string }>(await h.call('list_domains', { app: 'shop' }), 'domains');
      expect(new Set(all.map((d) => d.environment))).toEqual(new Set(['test', 'live']));
    });

    it('list_cronjobs lists commands and frequencies', async () => {
      const r = await h.call('list_cronjobs', { app: 'shop', environment: 'live' });
      const jobs = rows<{ command: string; frequency: string }>(r, 'cronjobs');
      expect(jobs.map((j) => j.command)).toContain('python manage.py expire_carts');
      expect(jobs.find((j) => j.command.includes('clearsessions'))?.frequency).toBe('DAILY');
    });

    it('config tools list the environments for an unknown environment', async () => {
      for (const name of ['list_service_instances', 'list_environment_variables', 'list_cronjobs']) {
        expectError(await h.call(name, { app: 'blog', environment: 'qa' }), /qa/, /test/, /live/);
      }
    });
  });
});

// The protocol era changes the transport and the negotiation, not what a tool answers: one call per read tool
// in each era, against identical sandboxes on one stopped clock (Date too, for the ages in the text), must
// give the same answer: text, structured content and resource links alike.
describe('read tools in the 2025 era: one parity check per tool', () => {
  const clock = new FakeClock({ auto: false });
  let legacy: Harness;
  let modern: Harness;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: clock.now() });
    legacy = await startHarness({ era: 'legacy', clock });
    modern = await startHarness({ era: 'modern', clock });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await legacy?.close();
    await modern?.close();
  });

  const READ_TOOLS = allTools.filter((t) => !isWriteTool(t)).map((t) => t.name);
  /**
   * What a tool answered, less what differs by design from call to call: the random boundary of an untrusted-data
   * fence and a cursor's nonce, MAC and sandbox port. `_meta` carries the 2026-07-28 era's per-result server
   * info: protocol, not the tool's answer.
   */
  const answer = ({ _meta, ...rest }: ToolResult & { _meta?: unknown }) =>
    JSON.parse(
      JSON.stringify(rest)
        .replace(/untrusted-data-[0-9a-f]+/g, 'untrusted-data-X')
        .replace(/"next_cursor":"[^"]+"/g, '"next_cursor":"X"'),
    ) as unknown;

  it.each(READ_TOOLS)('%s', async (name) => {
    expect(SAMPLE_ARGS, `no sample arguments for ${name}`).toHaveProperty(name);
    const args = SAMPLE_ARGS[name];
    const old = await legacy.call(name, args);
    const now = await modern.call(name, args);
    expect(old.isError, textOf(old)).toBeFalsy();
    expect(answer(old)).toEqual(answer(now));
  });
});

describe('pagination of every list tool', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const LISTS: [string, string, Record<string, unknown>][] = [
    ['list_organisations', 'organisations', {}],
    ['list_applications', 'applications', {}],
    ['list_deployments', 'deployments', { app: 'shop' }],
    ['list_backups', 'backups', { app: 'shop', environment: 'live' }],
    ['list_environment_variables', 'variables', { app: 'shop', environment: 'live' }],
    ['list_domains', 'domains', { app: 'shop' }],
    ['list_cronjobs', 'cronjobs', { app: 'shop', environment: 'live' }],
    ['list_service_instances', 'services', { app: 'shop', environment: 'live' }],
  ];

  it.each(LISTS)('%s: pages of 1 add up to the full list, each item once', async (name, key, args) => {
    const all = rows<{ uuid: string }>(await h.call(name, { ...args, limit: 100 }), key).map((x) => x.uuid);
    expect(all.length).toBeGreaterThan(1);
    const paged: string[] = [];
    let cursor: unknown;
    for (let i = 0; i <= all.length; i++) {
      const out = sc(await h.call(name, { ...args, limit: 1, ...(cursor ? { cursor } : {}) }));
      const items = (out[key] as { uuid: string }[]).map((x) => x.uuid);
      expect(items.length, `${name} page ${i}`).toBe(1);
      paged.push(...items);
      expect(out['has_more']).toBe(out['next_cursor'] !== null);
      cursor = out['next_cursor'];
      if (!cursor) break;
    }
    expect(paged).toEqual(all);
  });
});

describe('get_environment_logs size cap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { maxLogBytes: 2000 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('cuts the oldest entries, says so, and continues from the oldest kept one', async () => {
    const r = await h.call('get_environment_logs', { app: 'shop', environment: 'live', limit: 500 });
    const out = sc(r);
    expect(out['cut'] as number).toBeGreaterThan(0);
    expect(out['note']).toMatch(/older entries were cut/);
    expect(out['note']).toMatch(/since|service|search/);
    expect(out['has_more']).toBe(true);
    const entries = out['entries'] as { timestamp: string }[];
    expect(Buffer.byteLength(JSON.stringify(entries))).toBeLessThan(4000);
    expect(textOf(r)).toMatch(/were cut/);
    const older = sc(
      await h.call('get_environment_logs', {
        app: 'shop',
        environment: 'live',
        limit: 500,
        cursor: out['next_cursor'],
      }),
    );
    const olderEntries = older['entries'] as { timestamp: string }[];
    expect(olderEntries.length).toBeGreaterThan(0);
    const oldestKept = Date.parse(entries[0]?.timestamp ?? '');
    expect(olderEntries.every((e) => Date.parse(e.timestamp) <= oldestKept)).toBe(true);
  });
});

describe('get_environment_logs pagination under the size cap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { maxLogBytes: 2000 } });
  });
  afterAll(async () => {
    await h.close();
  });

  // Following next_cursor from the newest page back must yield every entry of the window exactly once.
  // Guards against the continuation re-reading entries that share the boundary timestamp (a traceback's
  // lines all do): an inclusive to_ts after a size cut used to return them twice (fixed in 8953616).
  it('returns every entry of a fixed window exactly once, in order', async () => {
    const until = new Date(Date.now() - 60_000);
    const since = new Date(until.getTime() - 20 * 60_000);
    const env = h.sandbox.state.environmentBySlug('shop', 'live');
    const truth = h.sandbox.state
      .logsFor(env?.uuid ?? '')
      .filter((e) => e.ms >= since.getTime() && e.ms <= until.getTime())
      .map((e) => `${new Date(e.ms).toISOString()} ${truncateLine(sanitize(e.message).trimEnd())}`);
    expect(truth.length).toBeGreaterThan(50);

    const pages: string[][] = [];
    let cursor: unknown;
    for (let i = 0; i < 300; i++) {
      const out = sc(
        await h.call('get_environment_logs', {
          app: 'shop',
          environment: 'live',
          since: since.toISOString(),
          until: until.toISOString(),
          limit: 100,
          ...(cursor ? { cursor } : {}),
        }),
      );
      pages.unshift(
        (out['entries'] as { timestamp: string; message: string }[]).map(
          (e) => `${e.timestamp} ${e.message}`,
        ),
      );
      cursor = out['next_cursor'];
      if (!cursor) break;
    }
    const collected = pages.flat();
    expect(collected.length - new Set(collected).size, 'entries returned twice').toBe(0);
    expect(collected).toEqual(truth);
  });
});

describe('without an API token', () => {
  it('every tool explains how to create a token and where to put it, and sends no request', async () => {
    const sandbox = await startSandbox();
    const divio = new DivioClient({ baseUrl: sandbox.url });
    const factory = createServerFactory({
      client: divio,
      config: defaultServerConfig({ pollIntervalMs: 50 }),
      log: silentLogger,
    });
    const server = factory();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const mcp = new Client(
      { name: 'no-token-test', version: '1.0.0' },
      { jsonSchemaValidator: sharedValidator, versionNegotiation: { mode: 'legacy' } },
    );
    await mcp.connect(clientSide);
    try {
      const listed = (await mcp.listTools()).tools.map((t) => t.name);
      expect(listed).toEqual(allTools.map((t) => t.name));
      const samples = { ...WRITE_SAMPLE_ARGS, ...SAMPLE_ARGS };
      for (const name of listed) {
        expect(samples, `no sample arguments for ${name}`).toHaveProperty(name);
        const r = (await mcp.callTool({ name, arguments: samples[name] })) as unknown as ToolResult;
        const text = expectError(r, /token/i);
        expect(text, name).toContain('https://control.divio.com/account/access-tokens/');
        expect(text, name).toContain('DIVIO_API_TOKEN');
      }
      expect(sandbox.requestLog).toEqual([]);
    } finally {
      await mcp.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      await divio.close();
      await sandbox.close();
    }
  });
});
