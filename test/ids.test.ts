import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox, uuidFromName } from '../src/sandbox/index.js';
import { dashedUuid } from '../src/sandbox/util.js';
import { type Harness, startHarness, type ToolResult, textOf } from './helpers/harness.js';

// Object IDs are opaque. The live API spells them as 26 lowercase base32 characters (captured responses in the
// public test repository mebdivio/cdtest1), so the sandbox issues that shape and every tool must take it.

const LIVE_ID = /^[a-z2-7]{26}$/;
const db = (env: string) => uuidFromName(`service-instance:${env}:DATABASE:DEFAULT`);

describe('sandbox IDs', () => {
  let sb: Sandbox;
  const auth = () => ({ Authorization: `Token ${sb.token}` });
  const get = async (path: string) => {
    const res = await fetch(`${sb.url}${path}`, { headers: auth() });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${sb.url}${path}`, {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(async () => {
    await sb.close();
  });

  it('issues 26-character lowercase base32 IDs, the same for seeded objects in every sandbox', async () => {
    const shop = uuidFromName('application:shop');
    expect(shop).toMatch(LIVE_ID);
    // 26 base32 characters carry 130 bits: a 128-bit UUID, so the last character's two low bits are zero.
    expect('aeimquy4').toContain(shop.at(-1));
    expect(dashedUuid(shop)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const apps = await get('/apps/v3/applications/?slug=shop');
    const [app] = apps.body['results'] as { uuid: string; organisation: string; region: string }[];
    expect(app?.uuid).toBe(shop);
    expect(app?.organisation).toMatch(LIVE_ID);
    expect(app?.region).toMatch(LIVE_ID);
    const envs = await get(`/apps/v3/environments/?application=${shop}`);
    for (const e of envs.body['results'] as Record<string, unknown>[]) {
      expect(e['uuid']).toMatch(LIVE_ID);
      expect(e['application']).toBe(shop);
    }
    const other = await startSandbox();
    try {
      expect(other.state.applications.has(shop)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('issues live-shaped IDs for objects created at runtime', async () => {
    const env = uuidFromName('environment:blog/test');
    const created = await post('/apps/v3/backups/', { environment: env, services: [db('blog/test')] });
    expect(created.status).toBe(201);
    expect(created.body['uuid']).toMatch(LIVE_ID);
    expect(created.body['environment']).toBe(env);
  });

  it('accepts the dashed hex spelling of the same ID in paths, filters, bodies and storage URLs', async () => {
    const env = uuidFromName('environment:blog/test');
    const dashed = dashedUuid(env);
    const byPath = await get(`/apps/v3/environments/${dashed}/`);
    expect(byPath.status).toBe(200);
    expect(byPath.body['uuid']).toBe(env);
    const upper = await get(`/apps/v3/environments/${dashed.toUpperCase().replace(/-/g, '')}/`);
    expect(upper.body['uuid']).toBe(env);
    const byFilter = await get(`/apps/v3/backups/?environment=${dashed}`);
    expect(byFilter.status).toBe(200);
    expect((byFilter.body['results'] as unknown[]).length).toBeGreaterThan(0);
    const byBody = await post('/apps/v3/backups/', {
      environment: dashed,
      services: [dashedUuid(db('blog/test'))],
    });
    expect(byBody.status).toBe(201);
    expect(byBody.body['environment']).toBe(env);

    const backups = (await get(`/apps/v3/backups/?environment=${env}`)).body['results'] as {
      uuid: string;
      success: string | null;
      service_instance_backups: string[];
    }[];
    const ok = backups.find((b) => b.success === 'SUCCESS');
    if (!ok) throw new Error('seed has no successful blog/test backup');
    const download = await post('/apps/v3/backup-downloads/', {
      backup: dashedUuid(ok.uuid),
      trigger: 'MANUAL',
      service_instance_backups: ok.service_instance_backups.map(dashedUuid),
    });
    expect(download.status).toBe(201);
    const listed = await get(
      `/apps/v3/backup-download-service-instances/?backup_download=${dashedUuid(String(download.body['uuid']))}`,
    );
    const [bdsi] = listed.body['results'] as { uuid: string }[];
    expect(bdsi?.uuid).toMatch(LIVE_ID);
    const expires = Math.floor(Date.now() / 1000) + 60;
    const signature = sb.state.signStorage(bdsi?.uuid ?? '', expires);
    const stored = await fetch(
      `${sb.url}/_storage/${dashedUuid(bdsi?.uuid ?? '')}?expires=${expires}&signature=${signature}`,
    );
    expect(stored.status).toBe(200);
  });

  it('answers garbage IDs like DRF: 400 "not a valid UUID" in filters and bodies, 404 in paths', async () => {
    const filter = await get('/apps/v3/backups/?environment=not-an-id');
    expect(filter.status).toBe(400);
    expect(filter.body).toEqual({ environment: ['“not-an-id” is not a valid UUID.'] });
    const body = await post('/apps/v3/backups/', { environment: 'zzzz' });
    expect(body.status).toBe(400);
    expect(body.body['environment']).toEqual(['“zzzz” is not a valid UUID.']);
    expect((await get('/apps/v3/environments/not-an-id/')).status).toBe(404);
    // inferred: base32 is accepted in the only spelling seen live (lowercase)
    const upper = uuidFromName('environment:blog/test').toUpperCase();
    expect((await get(`/apps/v3/backups/?environment=${upper}`)).status).toBe(400);
  });
});

describe('every tool that takes an ID takes a base32 ID, end to end', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const ok = (r: ToolResult) => {
    expect(r.isError, textOf(r)).toBeFalsy();
    return r.structuredContent ?? {};
  };
  const requested = (harness: Harness, id: string) =>
    harness.sandbox.requestLog.filter((e) => e.path.includes(id) || JSON.stringify(e.query).includes(id));

  it('get_deployment, get_deployment_log, get_backup, restore_backup, create_backup_download', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    const deployment = uuidFromName('deployment:shop/live:0');
    expect(deployment).toMatch(LIVE_ID);

    const dep = ok(await h.call('get_deployment', { deployment }));
    expect(dep['uuid']).toBe(deployment);
    expect(requested(h, deployment).map((e) => e.path)).toContain(`/apps/v3/deployments/${deployment}/`);

    const log = ok(await h.call('get_deployment_log', { deployment }));
    expect(JSON.stringify(log)).toContain(deployment);

    const list = ok(await h.call('list_backups', { app: 'blog', environment: 'test' }));
    const backup = (list['backups'] as { uuid: string; success: string | null }[]).find(
      (b) => b.success === 'SUCCESS',
    )?.uuid;
    expect(backup).toMatch(LIVE_ID);
    if (!backup) return;

    expect(ok(await h.call('get_backup', { backup }))['uuid']).toBe(backup);
    const restore = ok(await h.call('restore_backup', { backup, services: ['database'] }));
    expect((restore['result'] as { success: string }).success).toBe('SUCCESS');
    const download = ok(await h.call('create_backup_download', { backup }));
    expect((download['result'] as { download_url: string }).download_url).toContain('/_storage/');
    const posted = h.sandbox.requestLog.filter((e) => e.method === 'POST').map((e) => e.body);
    expect(posted).toContainEqual(expect.objectContaining({ backup }));
  });

  it('app and environment arguments given as IDs resolve exactly and reach every read tool', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    const app = uuidFromName('application:blog');
    const environment = uuidFromName('environment:blog/test');
    expect(ok(await h.call('get_application', { app }))['slug']).toBe('blog');
    for (const tool of [
      'get_environment',
      'list_deployments',
      'list_backups',
      'list_service_instances',
      'list_environment_variables',
      'list_domains',
      'list_cronjobs',
      'get_deployment_log',
      'get_environment_logs',
      'diagnose_environment',
    ]) {
      const r = await h.call(tool, { app, environment });
      expect(r.isError, `${tool}: ${textOf(r)}`).toBeFalsy();
    }
    // Every request carried the IDs exactly as issued (never reformatted or re-cased).
    for (const e of h.sandbox.requestLog) {
      const seen = `${e.path} ${JSON.stringify(e.query)}`;
      expect(seen).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(seen).not.toContain(app.toUpperCase());
    }
    expect(requested(h, environment).length).toBeGreaterThan(0);
    const created = ok(await h.call('create_backup', { app, environment, wait_seconds: 0 }));
    expect(JSON.stringify(created)).toMatch(/[a-z2-7]{26}/);
  });

  it('passes a dashed ID through untouched and shows what the API returned', async () => {
    h = await startHarness();
    const deployment = uuidFromName('deployment:shop/live:0');
    const dashed = dashedUuid(deployment);
    const r = ok(await h.call('get_deployment', { deployment: dashed }));
    expect(h.sandbox.requestLog.map((e) => e.path)).toContain(`/apps/v3/deployments/${dashed}/`);
    expect(r['uuid']).toBe(deployment);
  });

  it('refuses what cannot be an ID, naming the tool that returns one', async () => {
    h = await startHarness();
    for (const bad of ['short', 'a/b/../../applications', `${'x'.repeat(41)}`]) {
      const r = await h.call('get_backup', { backup: bad });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('list_backups');
    }
    expect(h.sandbox.requestLog).toHaveLength(0);
  });

  it('reads the deployment-log and backup resources by base32 ID', async () => {
    h = await startHarness();
    const deployment = uuidFromName('deployment:shop/live:0');
    const log = await h.mcp.readResource({ uri: `divio://deployments/${deployment}/log` });
    expect(JSON.stringify(log.contents)).toContain(deployment);
    const backup = uuidFromName('backup:shop/live:0');
    const res = await h.mcp.readResource({ uri: `divio://backups/${backup}` });
    expect(JSON.stringify(res.contents)).toContain(backup);
  });
});
