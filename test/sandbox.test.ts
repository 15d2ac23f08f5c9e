import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox, uuidFromName } from '../src/sandbox/index.js';

let sb: Sandbox;
const auth = () => ({ Authorization: `Token ${sb.token}` });

async function get(path: string, init: RequestInit = {}) {
  const res = await fetch(path.startsWith('http') ? path : `${sb.url}${path}`, {
    ...init,
    headers: { ...auth(), ...(init.headers as Record<string, string> | undefined) },
    redirect: 'manual',
  });
  const text = await res.text();
  return { res, status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function send(method: string, path: string, body: unknown) {
  return get(path, { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
}

const env = (app: string, slug: string) => uuidFromName(`environment:${app}/${slug}`);

beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(async () => {
  await sb.close();
});

describe('sandbox: routing, auth and errors', () => {
  it('serves the API root without auth', async () => {
    const r = await fetch(`${sb.url}/apps/v3/`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, string>;
    expect(body['applications']).toBe(`${sb.url}/apps/v3/applications/`);
  });

  it('rejects missing and wrong tokens with DRF bodies, never echoing the token', async () => {
    const missing = await fetch(`${sb.url}/apps/v3/applications/`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Token');
    expect(await missing.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    const wrong = await fetch(`${sb.url}/apps/v3/applications/`, {
      headers: { Authorization: 'Token nope-123' },
    });
    expect(wrong.status).toBe(401);
    const text = await wrong.text();
    expect(JSON.parse(text)).toEqual({ detail: 'Invalid token.' });
    expect(text).not.toContain('nope-123');
  });

  it('redirects any method without trailing slash with 301 (APPEND_SLASH), 404 when no slashed route', async () => {
    const r = await get('/apps/v3/applications?slug=shop');
    expect(r.status).toBe(301);
    expect(r.res.headers.get('location')).toBe('/apps/v3/applications/?slug=shop');
    const followed = await fetch(
      `${sb.url}/apps/v3/deployments/${uuidFromName('deployment:shop/live:0')}/logs`,
      {
        headers: auth(),
      },
    );
    expect(followed.status).toBe(200);
    expect(((await followed.json()) as { logs: string }).logs).toContain('Deployment successful');
    const post = await send('POST', '/apps/v3/deployments?x=1', { environment: env('blog', 'test') });
    expect(post.status).toBe(301);
    expect(post.res.headers.get('location')).toBe('/apps/v3/deployments/?x=1');
    expect((await send('POST', '/apps/v3/nope', {})).status).toBe(404);
  });

  it('routes and authenticates before parsing the body (a bad body on a bad path or without a token)', async () => {
    const bad = { method: 'POST', body: '{not json', headers: { 'Content-Type': 'application/json' } };
    const xml = { method: 'POST', body: '<x/>', headers: { 'Content-Type': 'application/xml' } };
    for (const init of [bad, xml]) {
      expect((await get('/apps/v3/nope/', init)).status).toBe(404);
      const anon = await fetch(`${sb.url}/apps/v3/deployments/`, init);
      expect(anon.status).toBe(401);
      const put = await get('/apps/v3/applications/', { ...init, method: 'PUT' });
      expect(put.status).toBe(405);
    }
    // once routed and authenticated, the handler reads the body and it fails as before
    expect((await get('/apps/v3/deployments/', bad)).status).toBe(400);
    expect((await get('/apps/v3/deployments/', xml)).status).toBe(415);
  });

  it('answers unknown paths, unknown objects and invalid path IDs with 404 Not found', async () => {
    for (const p of [
      '/apps/v3/nope/',
      '/apps/v3/environments/not-a-uuid/',
      `/apps/v3/environments/${uuidFromName('x')}/`,
    ]) {
      const r = await get(p);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ detail: 'Not found.' });
    }
  });

  it('answers 405 for methods a route does not allow', async () => {
    const r = await send('DELETE', `/apps/v3/deployments/${uuidFromName('deployment:shop/live:0')}/`, {});
    expect(r.status).toBe(405);
    expect(r.body).toEqual({ detail: 'Method "DELETE" not allowed.' });
    expect(r.res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('validates ID filters with 400 field errors', async () => {
    const r = await get('/apps/v3/backups/?environment=abc');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ environment: ['“abc” is not a valid UUID.'] });
  });
});

describe('sandbox: pagination', () => {
  it('uses DRF page-number envelopes with absolute, query-preserving links', async () => {
    const first = await get('/apps/v3/environments/?page_size=4');
    expect(first.status).toBe(200);
    expect(first.body['count']).toBe(11);
    expect((first.body['results'] as unknown[]).length).toBe(4);
    expect(first.body['previous']).toBeNull();
    expect(first.body['next']).toBe(`${sb.url}/apps/v3/environments/?page=2&page_size=4`);
    const second = await get(first.body['next'] as string);
    expect(second.body['previous']).toBe(`${sb.url}/apps/v3/environments/?page_size=4`);
    const third = await get(second.body['next'] as string);
    expect((third.body['results'] as unknown[]).length).toBe(3);
    expect(third.body['next']).toBeNull();
  });

  it('defaults page_size to 20, clamps at 100, and 404s out-of-range pages', async () => {
    const all = await get('/apps/v3/service-instance-backups/');
    const count = all.body['count'] as number;
    expect(count).toBeGreaterThan(20);
    expect((all.body['results'] as unknown[]).length).toBe(20);
    const big = await get('/apps/v3/service-instance-backups/?page_size=1000');
    expect((big.body['results'] as unknown[]).length).toBe(Math.min(100, count));
    for (const p of ['999', '0', 'abc']) {
      const r = await get(`/apps/v3/environments/?page=${p}`);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ detail: 'Invalid page.' });
    }
  });

  it('pages cronjobs with limit/offset', async () => {
    const r = await get('/apps/v3/cronjobs/?limit=5');
    expect(r.body['count']).toBeGreaterThan(5);
    expect(r.body['next']).toBe(`${sb.url}/apps/v3/cronjobs/?limit=5&offset=5`);
    const n = await get(r.body['next'] as string);
    expect(n.body['previous']).toBe(`${sb.url}/apps/v3/cronjobs/?limit=5`);
  });
});

describe('sandbox: seed', () => {
  it('has the five applications with test/live (and staging on api-gateway)', async () => {
    const apps = await get('/apps/v3/applications/');
    const slugs = (apps.body['results'] as { slug: string }[]).map((a) => a.slug).sort();
    expect(slugs).toEqual(['api-gateway', 'blog', 'intranet', 'marketing-site', 'shop']);
    const shop = await get('/apps/v3/applications/?slug=shop');
    const shopUuid = (shop.body['results'] as { uuid: string }[])[0]?.uuid;
    expect(shopUuid).toBe(uuidFromName('application:shop'));
    const envs = await get(`/apps/v3/environments/?application=${shopUuid}&slug=live`);
    const live = (envs.body['results'] as Record<string, unknown>[])[0];
    expect(live?.['application']).toBe(shopUuid);
    expect(live?.['is_production_grade']).toBe(true);
  });

  it('shop live: last deployment failed, an older success is still released', async () => {
    const r = await get(`/apps/v3/environments/${env('shop', 'live')}/`);
    const e = r.body as Record<string, Record<string, unknown> | null>;
    expect((e['application'] as Record<string, unknown>)['slug']).toBe('shop');
    expect(e['last_finished_deployment']?.['status']).toBe('failure');
    expect(e['last_finished_deployment']?.['success']).toBe(false);
    expect(e['currently_released_deployment']?.['success']).toBe(true);
    expect(e['currently_running_deployment']).toBeNull();
    const logs = await get(`/apps/v3/deployments/${e['last_finished_deployment']?.['uuid']}/logs/`);
    expect(logs.body['logs']).toMatch(/No matching distribution found[\s\S]*non-zero code: 1/);
  });

  it('environments carry the fields of a live list response; a successful deployment says done', async () => {
    const list = await get(`/apps/v3/environments/?application=${uuidFromName('application:shop')}`);
    const live = (list.body['results'] as Record<string, unknown>[]).find((e) => e['slug'] === 'live');
    const detail = (await get(`/apps/v3/environments/${env('shop', 'live')}/`)).body;
    const released = detail['currently_released_deployment'] as Record<string, unknown>;
    expect(released['status']).toBe('done');
    expect(released['success']).toBe(true);
    const domains = await get(`/apps/v3/domains/?environment=${env('shop', 'live')}`);
    const primary = (domains.body['results'] as { uuid: string; is_primary: boolean }[]).find(
      (d) => d.is_primary,
    );
    for (const e of [live, detail]) {
      expect(e).toBeDefined();
      const v = e as Record<string, unknown>;
      for (const key of [
        'uuid',
        'application',
        'app_name',
        'slug',
        'branch',
        'primary_domain',
        'pending_commits_lookup',
        'ondemand_backup_retention_config',
        'scheduled_backup_config',
        'environment_variables',
        'is_production_grade',
      ])
        expect(v, key).toHaveProperty(key);
      expect(v['app_name']).toMatch(/^shop-live-[0-9a-f]{32}$/);
      expect(v['pending_commits_lookup']).toBe(`${released['git_commit']}..${v['branch']}`);
      expect(v['primary_domain']).toBe(primary?.uuid);
      expect(v['environment_variables']).toEqual(
        expect.arrayContaining(['SECRET_KEY', 'DEFAULT_DATABASE_DSN']),
      );
      expect((v['environment_variables'] as unknown[]).every((n) => typeof n === 'string')).toBe(true);
    }
  });

  it('has service instances (intranet test storage NEW), env vars with real sensitive values', async () => {
    const si = await get(`/apps/v3/service-instances/?environment=${env('intranet', 'test')}`);
    const items = si.body['results'] as { type: string; service_status: string; prefix: string }[];
    expect(items.map((x) => `${x.type}:${x.prefix}:${x.service_status}`).sort()).toEqual([
      'DATABASE:DEFAULT:READY',
      'STORAGE:DEFAULT:NEW',
    ]);
    const vars = await get(
      `/apps/v3/environment-variables/?environment=${env('shop', 'live')}&name=STRIPE_API_KEY`,
    );
    const v = (vars.body['results'] as { value: string; is_sensitive: boolean }[])[0];
    expect(v?.is_sensitive).toBe(true);
    expect(v?.value).toMatch(/^sk_live_/);
  });

  it('intranet live has no successful backup', async () => {
    const r = await get(`/apps/v3/backups/?environment=${env('intranet', 'live')}`);
    const items = r.body['results'] as { success: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((b) => b.success !== 'SUCCESS')).toBe(true);
  });

  it('requires application or environment on environment-variables', async () => {
    const r = await get('/apps/v3/environment-variables/');
    expect(r.status).toBe(400);
    expect(Object.keys(r.body)).toEqual(['non_field_errors']);
  });

  it('is deterministic across sandboxes for the same clock', async () => {
    const clock = () => Date.UTC(2026, 0, 1, 12);
    const a = await startSandbox({ now: clock });
    const b = await startSandbox({ now: clock });
    try {
      const shopLive = env('shop', 'live');
      expect(a.state.logsFor(shopLive)).toEqual(b.state.logsFor(shopLive));
      expect([...a.state.deployments.keys()]).toEqual([...b.state.deployments.keys()]);
      expect([...a.state.backups.keys()]).toEqual([...b.state.backups.keys()]);
      const ea = await fetch(`${a.url}/apps/v3/environments/${shopLive}/`, {
        headers: { Authorization: `Token ${a.token}` },
      });
      const eb = await fetch(`${b.url}/apps/v3/environments/${shopLive}/`, {
        headers: { Authorization: `Token ${b.token}` },
      });
      expect(await ea.json()).toEqual(await eb.json());
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('sandbox: more fidelity checks', () => {
  it('answers HEAD like GET without a body, and redirects HEAD without slash', async () => {
    const r = await fetch(`${sb.url}/apps/v3/regions/`, { method: 'HEAD', headers: auth() });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('');
    const noSlash = await fetch(`${sb.url}/apps/v3/regions`, {
      method: 'HEAD',
      headers: auth(),
      redirect: 'manual',
    });
    expect(noSlash.status).toBe(301);
  });

  it('refuses backups of a service instance that is not provisioned', async () => {
    const r = await send('POST', '/apps/v3/backups/', {
      environment: env('intranet', 'test'),
      services: [uuidFromName('service-instance:intranet/test:STORAGE:DEFAULT')],
    });
    expect(r.status).toBe(400);
    expect(r.body).toHaveProperty('services');
  });

  it('updates an environment branch with PATCH and rejects bad JSON', async () => {
    const id = env('marketing-site', 'test');
    const r = await send('PATCH', `/apps/v3/environments/${id}/`, { branch: 'feature/x' });
    expect(r.status).toBe(200);
    expect(r.body['branch']).toBe('feature/x');
    const bad = await get(`/apps/v3/environments/${id}/`, {
      method: 'PATCH',
      body: '{"branch":',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body['detail'])).toMatch(/^JSON parse error/);
  });

  it('lists services by type and regions by uuid', async () => {
    const db = await get('/apps/v3/services/?type=DATABASE');
    expect((db.body['results'] as { type: string }[]).every((x) => x.type === 'DATABASE')).toBe(true);
    const region = uuidFromName('region:eu-central');
    const r = await get(`/apps/v3/regions/?uuid=${region}`);
    expect(r.body['count']).toBe(1);
  });

  it('records requests with status and parsed query', async () => {
    sb.clearRequestLog();
    await get('/apps/v3/domains/?environment=nope');
    expect(sb.requestLog).toHaveLength(1);
    expect(sb.requestLog[0]).toMatchObject({ method: 'GET', status: 400, query: { environment: 'nope' } });
  });
});

describe('sandbox: DRF field semantics and filters', () => {
  const shop = uuidFromName('application:shop');
  const shopTest = env('shop', 'test');

  it('PUT on an environment variable without value leaves the value unchanged', async () => {
    const created = await send('POST', '/apps/v3/environment-variables/', {
      name: 'PUT_KEEPS_VALUE',
      environment: shopTest,
      value: 'kept',
    });
    expect(created.status).toBe(201);
    const id = created.body['uuid'] as string;
    const put = await send('PUT', `/apps/v3/environment-variables/${id}/`, { name: 'PUT_KEEPS_VALUE_2' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'PUT_KEEPS_VALUE_2', value: 'kept' });
    await get(`/apps/v3/environment-variables/${id}/`, { method: 'DELETE' });
  });

  it('CreateDeployment echoes provision_services and adopt_deployment', async () => {
    const previous = uuidFromName('deployment:blog/live:0');
    const d = await send('POST', '/apps/v3/deployments/', {
      environment: env('blog', 'live'),
      provision_services: false,
      adopt_deployment: previous,
    });
    expect(d.status).toBe(201);
    expect(d.body).toMatchObject({ provision_services: false, adopt_deployment: previous });
    const bad = await send('POST', '/apps/v3/deployments/', {
      environment: env('blog', 'test'),
      adopt_deployment: uuidFromName('missing'),
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body)).toEqual(['adopt_deployment']);
  });

  it('reads zone-less date-times as UTC, whatever the host time zone', async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const make = async (when: string) => {
        const r = await send('POST', '/apps/v3/backups/', {
          environment: shopTest,
          services: [uuidFromName(`service-instance:shop/test:DATABASE:DEFAULT`)],
          scheduled_for_deletion_at: when,
        });
        expect(r.status).toBe(201);
        return r.body['scheduled_for_deletion_at'];
      };
      expect(await make('2030-06-01T12:00:00')).toBe(await make('2030-06-01T12:00:00Z'));
      expect(await make('2030-06-01 12:00')).toBe('2030-06-01T12:00:00.000Z');
      const logs = (q: string) => get(`/apps/v3/environments/${env('shop', 'live')}/logs/?limit=50&${q}`);
      // A window that ends an hour ago, so lines logged while the two requests run cannot tell them apart.
      const stamp = new Date(Date.now() - 3 * 3_600_000).toISOString().slice(0, 19);
      const until = new Date(Date.now() - 3_600_000).toISOString();
      const [naive, utc] = await Promise.all([
        logs(`from_ts=${stamp}&to_ts=${until}`),
        logs(`from_ts=${stamp}Z&to_ts=${until}`),
      ]);
      expect((naive.body['results'] as unknown[]).length).toBeGreaterThan(0);
      expect(naive.status).toBe(200);
      expect(naive.body['results']).toEqual(utc.body['results']);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('filters services, environment variables and regions by the declared parameters', async () => {
    const names = (body: Record<string, unknown>, key = 'name') =>
      (body['results'] as Record<string, unknown>[]).map((x) => x[key]);
    const all = await get('/apps/v3/services/');
    const forShop = await get(`/apps/v3/services/?website=${shop}`);
    expect(names(forShop.body).length).toBeGreaterThan(0);
    expect(names(forShop.body).length).toBeLessThan(names(all.body).length);
    expect(names((await get('/apps/v3/services/?identifier=postgres-15')).body, 'identifier')).toEqual([
      'postgres-15',
      'postgres-15',
    ]);
    expect(names((await get('/apps/v3/services/?name=Object%20Storage')).body)).toEqual([
      'Object Storage',
      'Object Storage',
    ]);
    expect(names((await get('/apps/v3/services/?is_backupable=false')).body)).toEqual([]);

    const vars = await get(`/apps/v3/environment-variables/?environment=${shopTest}`);
    const [a, b] = vars.body['results'] as { uuid: string }[];
    const picked = await get(
      `/apps/v3/environment-variables/?environment=${shopTest}&uuid=${a!.uuid}&uuid=${b!.uuid}`,
    );
    expect(names(picked.body, 'uuid')).toEqual([a!.uuid, b!.uuid]);
    const readOnly = await get(`/apps/v3/environment-variables/?environment=${shopTest}&is_read_only=true`);
    expect(names(readOnly.body).length).toBeLessThan(names(vars.body).length);

    const region = await get('/apps/v3/regions/?name=Europe%20(Frankfurt)');
    expect(names(region.body, 'short_name')).toEqual(['eu-central']);
  });
});
