import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox, uuidFromName } from '../src/sandbox/index.js';

type Json = Record<string, unknown>;

let sb: Sandbox;
let clock = Date.UTC(2026, 5, 1, 9, 0, 0);
const advance = (ms: number) => {
  clock += ms;
};

async function call(method: string, path: string, body?: unknown, base?: Sandbox) {
  const s = base ?? sb;
  const init: RequestInit = { method, headers: { Authorization: `Token ${s.token}` }, redirect: 'manual' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
  }
  const res = await fetch(path.startsWith('http') ? path : `${s.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

const env = (app: string, slug: string) => uuidFromName(`environment:${app}/${slug}`);
const si = (app: string, slug: string, type: string) =>
  uuidFromName(`service-instance:${app}/${slug}:${type}:DEFAULT`);

beforeAll(async () => {
  sb = await startSandbox({
    now: () => clock,
    timings: { deployMs: 200, backupMs: 200, restoreMs: 200, downloadMs: 100 },
  });
});
afterAll(async () => {
  await sb.close();
});

describe('sandbox: deployments', () => {
  it('runs queued → building → deploying → done and updates the environment', async () => {
    const envId = env('blog', 'test');
    const created = await call('POST', '/apps/v3/deployments/', { environment: envId, build_mode: 'FORCE' });
    expect(created.status).toBe(201);
    const id = created.body['uuid'] as string;
    expect(created.body).toMatchObject({ status: 'queued', percent: 0, ended_at: null, success: null });
    expect(created.body['started_at']).toEqual(expect.any(String));

    const envNow = await call('GET', `/apps/v3/environments/${envId}/`);
    expect((envNow.body['currently_running_deployment'] as Json)['uuid']).toBe(id);

    const again = await call('POST', '/apps/v3/deployments/', { environment: envId });
    expect(again.status).toBe(400);
    expect(again.body).toHaveProperty('non_field_errors');

    advance(50);
    expect((await call('GET', `/apps/v3/deployments/${id}/`)).body['status']).toBe('building');
    advance(80);
    const deploying = await call('GET', `/apps/v3/deployments/${id}/`);
    expect(deploying.body['status']).toBe('deploying');
    expect(deploying.body['percent']).toBe(65);
    advance(100);
    const done = await call('GET', `/apps/v3/deployments/${id}/`);
    expect(done.body).toMatchObject({ status: 'done', success: true, percent: 100, is_usable: true });
    expect(done.body['ended_at']).toEqual(expect.any(String));

    const after = await call('GET', `/apps/v3/environments/${envId}/`);
    expect(after.body['currently_running_deployment']).toBeNull();
    expect((after.body['last_finished_deployment'] as Json)['uuid']).toBe(id);
    expect((after.body['currently_released_deployment'] as Json)['uuid']).toBe(id);
    const logs = await call('GET', `/apps/v3/deployments/${id}/logs/`);
    expect(logs.body['logs']).toMatch(/Deployment successful$/);

    const list = await call('GET', `/apps/v3/deployments/?environment=${envId}`);
    expect(((list.body['results'] as Json[])[0] as Json)['uuid']).toBe(id);
  });

  it('fails shop live by default with the build error; the old release stays', async () => {
    const envId = env('shop', 'live');
    const before = await call('GET', `/apps/v3/environments/${envId}/`);
    const released = (before.body['currently_released_deployment'] as Json)['uuid'];
    const created = await call('POST', '/apps/v3/deployments/', { environment: envId, build_mode: 'AUTO' });
    const id = created.body['uuid'] as string;
    advance(100);
    const partial = await call('GET', `/apps/v3/deployments/${id}/logs/`);
    expect(partial.body['logs']).not.toContain('Build failed');
    advance(100);
    const done = await call('GET', `/apps/v3/deployments/${id}/`);
    expect(done.body).toMatchObject({ status: 'failure', success: false });
    const logs = await call('GET', `/apps/v3/deployments/${id}/logs/`);
    expect(logs.body['logs']).toMatch(/exited with code 1\n.*Deployment failed$/);
    const after = await call('GET', `/apps/v3/environments/${envId}/`);
    expect((after.body['last_finished_deployment'] as Json)['uuid']).toBe(id);
    expect((after.body['currently_released_deployment'] as Json)['uuid']).toBe(released);
  });

  it('setDeployOutcome overrides the outcome', async () => {
    const envId = env('marketing-site', 'live');
    sb.control.setDeployOutcome(envId, 'failure');
    const created = await call('POST', '/apps/v3/deployments/', { environment: envId });
    advance(500);
    expect((await call('GET', `/apps/v3/deployments/${created.body['uuid']}/`)).body['success']).toBe(false);
    sb.control.setDeployOutcome(env('shop', 'live'), 'success');
    const fixed = await call('POST', '/apps/v3/deployments/', { environment: env('shop', 'live') });
    advance(500);
    expect((await call('GET', `/apps/v3/deployments/${fixed.body['uuid']}/`)).body['success']).toBe(true);
  });

  it('validates the body in DRF shapes', async () => {
    const missing = await call('POST', '/apps/v3/deployments/', {});
    expect(missing).toEqual({ status: 400, body: { environment: ['This field is required.'] } });
    const ghost = uuidFromName('ghost');
    const unknown = await call('POST', '/apps/v3/deployments/', { environment: ghost, build_mode: 'FAST' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      environment: [`Invalid pk "${ghost}" - object does not exist.`],
      build_mode: ['"FAST" is not a valid choice.'],
    });
  });

  it('accepts form-encoded flat bodies', async () => {
    const res = await fetch(`${sb.url}/apps/v3/deployments/`, {
      method: 'POST',
      headers: { Authorization: `Token ${sb.token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `environment=${env('intranet', 'test')}&build_mode=ADOPT`,
    });
    expect(res.status).toBe(201);
    advance(500);
  });
});

describe('sandbox: backups, restores and downloads', () => {
  it('runs a backup WAITING → WORKING → COMPLETED with one service-instance backup per service', async () => {
    const envId = env('blog', 'live');
    const services = [si('blog', 'live', 'DATABASE'), si('blog', 'live', 'STORAGE')];
    const created = await call('POST', '/apps/v3/backups/', {
      environment: envId,
      services,
      notes: 'before migration',
      trigger: 'MANUAL',
      scheduled_for_deletion_at: '2026-06-01T10:00:00Z',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'WAITING', success: null });
    const id = created.body['uuid'] as string;
    const sibs = created.body['service_instance_backups'] as string[];
    expect(sibs).toHaveLength(2);
    advance(100);
    expect((await call('GET', `/apps/v3/backups/${id}/`)).body['state']).toBe('WORKING');
    const sibWorking = await call('GET', `/apps/v3/service-instance-backups/${sibs[0]}/`);
    expect(sibWorking.body['ended_at']).toBeNull();
    advance(100);
    const done = await call('GET', `/apps/v3/backups/${id}/`);
    expect(done.body).toMatchObject({ state: 'COMPLETED', success: 'SUCCESS' });
    const sib = await call('GET', `/apps/v3/service-instance-backups/${sibs[0]}/`);
    expect(sib.body).toMatchObject({
      backup: id,
      service_type: 'DATABASE',
      service_prefix: 'DEFAULT',
      errors: [],
    });
    expect(sib.body['size']).toBeGreaterThan(0);
    expect(sib.body['taken_at']).toEqual(expect.any(String));
    const listed = await call('GET', `/apps/v3/service-instance-backups/?uuid=${sibs[0]}&uuid=${sibs[1]}`);
    expect(listed.body['count']).toBe(2);
    const newest = await call('GET', `/apps/v3/backups/?environment=${envId}`);
    expect(((newest.body['results'] as Json[])[0] as Json)['uuid']).toBe(id);

    // restore
    const badSib = uuidFromName('service-instance-backup:shop/live:0:DATABASE');
    const wrong = await call('POST', '/apps/v3/backup-restores/', {
      backup: id,
      service_instance_restores: [{ service_instance_backup: badSib }],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toHaveProperty('non_field_errors');
    const restore = await call('POST', '/apps/v3/backup-restores/', {
      backup: id,
      service_instance_restores: [{ service_instance_backup: sibs[0] }],
      notes: 'Divio CLI push',
    });
    expect(restore.status).toBe(201);
    const rid = restore.body['uuid'] as string;
    const r0 = await call('GET', `/apps/v3/backup-restores/${rid}/`);
    expect(r0.body).toMatchObject({ finished: false, success: null, environment: envId, backup: id });
    advance(250);
    const r1 = await call('GET', `/apps/v3/backup-restores/${rid}/`);
    expect(r1.body).toMatchObject({ finished: true, success: 'SUCCESS' });
    expect(r1.body['service_instance_backup_restores']).toHaveLength(1);

    // download
    const dl = await call('POST', '/apps/v3/backup-downloads/', {
      backup: id,
      service_instance_backups: [sibs[0]],
      trigger: 'PULL',
    });
    expect(dl.status).toBe(201);
    const dlId = dl.body['uuid'] as string;
    const bdsis = await call('GET', `/apps/v3/backup-download-service-instances/?backup_download=${dlId}`);
    expect(bdsis.body['count']).toBe(1);
    const bdsi = (bdsis.body['results'] as Json[])[0] as Json;
    expect(bdsi).toMatchObject({ ended_at: null, download_url: null, errors: [] });
    advance(150);
    const ready = await call('GET', `/apps/v3/backup-download-service-instances/${bdsi['uuid']}/`);
    const url = ready.body['download_url'] as string;
    expect(url).toMatch(
      new RegExp(`^${sb.url}/_storage/${bdsi['uuid']}\\?expires=\\d+&signature=[0-9a-f]+$`),
    );
    const file = await fetch(url);
    expect(file.status).toBe(200);
    expect(
      Buffer.from(await file.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('PGDMP');
    const tampered = await fetch(url.replace(/signature=./, 'signature=x'));
    expect(tampered.status).toBe(403);
  });

  it('the CLI `backup` param is ignored on backup-download-service-instances', async () => {
    const all = await call('GET', '/apps/v3/backup-download-service-instances/');
    const filtered = await call(
      'GET',
      `/apps/v3/backup-download-service-instances/?backup=${uuidFromName('x')}`,
    );
    expect(filtered.body['count']).toBe(all.body['count']);
  });

  it('setBackupOutcome gives PARTIAL/FAILURE with errors; failed backups cannot be restored', async () => {
    const envId = env('api-gateway', 'staging');
    sb.control.setBackupOutcome(envId, 'FAILURE');
    const created = await call('POST', '/apps/v3/backups/', {
      environment: envId,
      services: [si('api-gateway', 'staging', 'DATABASE')],
    });
    advance(300);
    const done = await call('GET', `/apps/v3/backups/${created.body['uuid']}/`);
    expect(done.body).toMatchObject({ state: 'COMPLETED', success: 'FAILURE' });
    const sibId = (done.body['service_instance_backups'] as string[])[0];
    const sib = await call('GET', `/apps/v3/service-instance-backups/${sibId}/`);
    expect((sib.body['errors'] as string[]).length).toBe(1);
    const restore = await call('POST', '/apps/v3/backup-restores/', {
      backup: created.body['uuid'],
      service_instance_restores: [{ service_instance_backup: sibId }],
    });
    expect(restore.status).toBe(400);

    sb.control.setBackupOutcome(envId, 'PARTIAL');
    const partial = await call('POST', '/apps/v3/backups/', {
      environment: envId,
      services: [si('api-gateway', 'staging', 'DATABASE'), si('api-gateway', 'staging', 'STORAGE')],
    });
    advance(300);
    expect((await call('GET', `/apps/v3/backups/${partial.body['uuid']}/`)).body['success']).toBe('PARTIAL');
  });

  it('a PARTIAL outcome where no service succeeded reports FAILURE', async () => {
    const envId = env('api-gateway', 'staging');
    sb.control.setBackupOutcome(envId, 'PARTIAL');
    const created = await call('POST', '/apps/v3/backups/', {
      environment: envId,
      services: [si('api-gateway', 'staging', 'DATABASE')],
    });
    advance(300);
    const done = await call('GET', `/apps/v3/backups/${created.body['uuid']}/`);
    expect(done.body).toMatchObject({ state: 'COMPLETED', success: 'FAILURE' });
    sb.control.setBackupOutcome(envId, 'SUCCESS');
  });

  it('validates backup bodies', async () => {
    const r = await call('POST', '/apps/v3/backups/', { environment: env('shop', 'test') });
    expect(r).toEqual({ status: 400, body: { services: ['This field is required.'] } });
    const foreign = await call('POST', '/apps/v3/backups/', {
      environment: env('shop', 'test'),
      services: [si('blog', 'test', 'DATABASE')],
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toHaveProperty('services');
  });
});

describe('sandbox: environment variables, domains, cronjobs', () => {
  it('creates, updates (ignoring environment/is_sensitive) and deletes an env var', async () => {
    const envId = env('blog', 'test');
    const c = await call('POST', '/apps/v3/environment-variables/', {
      name: 'FEATURE_X',
      environment: envId,
      value: 'on',
      is_sensitive: true,
    });
    expect(c.status).toBe(201);
    const id = c.body['uuid'] as string;
    const dup = await call('POST', '/apps/v3/environment-variables/', {
      name: 'FEATURE_X',
      environment: envId,
    });
    expect(dup.status).toBe(400);
    expect(dup.body).toHaveProperty('non_field_errors');
    const p = await call('PATCH', `/apps/v3/environment-variables/${id}/`, {
      value: 'off',
      is_sensitive: false,
      environment: env('shop', 'live'),
    });
    expect(p.body).toMatchObject({ value: 'off', is_sensitive: true, environment: envId });
    const put = await call('PUT', `/apps/v3/environment-variables/${id}/`, { value: 'x' });
    expect(put).toEqual({ status: 400, body: { name: ['This field is required.'] } });
    const del = await call('DELETE', `/apps/v3/environment-variables/${id}/`);
    expect(del.status).toBe(204);
    expect((await call('GET', `/apps/v3/environment-variables/${id}/`)).status).toBe(404);
  });

  it('filters env vars by application and repeated environment', async () => {
    const byApp = await call(
      'GET',
      `/apps/v3/environment-variables/?application=${uuidFromName('application:shop')}`,
    );
    const byEnvs = await call(
      'GET',
      `/apps/v3/environment-variables/?environment=${env('shop', 'test')}&environment=${env('shop', 'live')}`,
    );
    expect(byApp.body['count']).toBe(byEnvs.body['count']);
  });

  it('lists domains and runs cronjob CRUD', async () => {
    const d = await call('GET', `/apps/v3/domains/?environment=${env('shop', 'live')}`);
    expect(d.body['count']).toBe(3);
    const c = await call('POST', '/apps/v3/cronjobs/', {
      command: 'python manage.py tidy',
      frequency: 'HOURLY',
      time: ':05',
      environment: env('blog', 'live'),
    });
    expect(c.status).toBe(201);
    const bad = await call('PATCH', `/apps/v3/cronjobs/${c.body['uuid']}/`, { frequency: 'WEEKLY' });
    expect(bad).toEqual({ status: 400, body: { frequency: ['"WEEKLY" is not a valid choice.'] } });
    expect((await call('DELETE', `/apps/v3/cronjobs/${c.body['uuid']}/`)).status).toBe(204);
  });

  it('serves organisations and the current user', async () => {
    const orgs = await call('GET', '/iam/v3/organisations/');
    expect((orgs.body['results'] as Json[]).map((o) => o['name'])).toEqual(['Acme Corp', 'Globex Labs']);
    const me = await call('GET', '/iam/v3/me/');
    expect(me.body).toHaveProperty('email');
  });
});

describe('sandbox: real clock', () => {
  it('without a clock it reads the system time: a deploy finishes once that time has passed', async () => {
    // Only Date is faked (timers and sockets stay real), so the default clock is what moves.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 5, 1, 12) });
    const real = await startSandbox({ timings: { deployMs: 200 } });
    try {
      const created = await call('POST', '/apps/v3/deployments/', { environment: env('blog', 'live') }, real);
      const read = async () =>
        (await call('GET', `/apps/v3/deployments/${created.body['uuid']}/`, undefined, real)).body;
      expect(created.body['started_at']).toBe('2026-06-01T12:00:00.000Z');
      vi.setSystemTime(Date.UTC(2026, 5, 1, 12) + 199);
      expect(await read()).toMatchObject({ ended_at: null, success: null });
      vi.setSystemTime(Date.UTC(2026, 5, 1, 12) + 200);
      expect(await read()).toMatchObject({ status: 'done', success: true });
    } finally {
      vi.useRealTimers();
      await real.close();
    }
  });

  it('speed divides timings', async () => {
    const fast = await startSandbox({ speed: 100 });
    try {
      expect(fast.state.timings.deployMs).toBe(40);
    } finally {
      await fast.close();
    }
  });
});
