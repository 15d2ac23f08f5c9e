import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  DivioClient,
  type DivioClientOptions,
  PermissionDeniedError,
  RedirectError,
  tokenPageUrl,
} from '../src/client/index.js';
import { type SlashMode, uuidFromName } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

// Paths exactly as Divio's CLI sends them (`divio_cli/api_requests.py`), redirects followed on GET only and
// only on the configured origin, and 403 told apart: a refused token or an account without access.

const BASE = 'https://api.example.test';
const TOKEN = 'tok_SECRET_5e6f7a8b9c0d';
const ID = 'efrlmsafhjeb5htwozkc2sgbd4';
const AUTH = { authorization: `Token ${TOKEN}` };
const JSON_HEADERS = { 'content-type': 'application/json' };

let agent: MockAgent;
beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
});
afterEach(async () => {
  await agent.close();
});

const pool = (origin = BASE) => agent.get(origin);
const client = (extra: Partial<DivioClientOptions> = {}) =>
  new DivioClient({ token: TOKEN, baseUrl: BASE, dispatcher: agent, retry: { maxRetries: 0 }, ...extra });
const deployment = { uuid: ID, environment: 'fwwk5i3acnao5mfq6263ennkfe', status: 'done', success: true };

describe('paths', () => {
  it('sends the three slashless GETs without a trailing slash and everything else with one', async () => {
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/logs`, method: 'GET' })
      .reply(200, { uuid: ID, logs: 'ok' }, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/backup-download-service-instances/${ID}`, method: 'GET' })
      .reply(200, { uuid: ID, download_url: null }, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/`, method: 'GET' })
      .reply(200, deployment, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/backups/${ID}/`, method: 'GET' })
      .reply(200, { uuid: ID }, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/backups/', method: 'POST' })
      .reply(201, { uuid: ID }, { headers: JSON_HEADERS });
    const c = client();
    await c.deployments.logs(ID);
    await c.backupDownloadServiceInstances.get(ID);
    await c.deployments.get(ID);
    await c.backups.get(ID);
    await c.backups.create({ environment: ID, services: [ID] });
    agent.assertNoPendingInterceptors();
  });
});

describe('redirects', () => {
  it('follows 301, 302, 307 and 308 on a GET, relative or absolute, sending the token on each hop', async () => {
    const hops: [number, string, string][] = [
      [301, `/apps/v3/deployments/${ID}/logs`, `/apps/v3/deployments/${ID}/logs/`],
      [302, `/apps/v3/deployments/${ID}/logs/`, `${BASE}/apps/v3/x/`],
      [307, '/apps/v3/x/', 'y/'],
    ];
    for (const [status, from, to] of hops) {
      pool()
        .intercept({ path: from, method: 'GET', headers: AUTH })
        .reply(status, '', { headers: { location: to } });
    }
    pool()
      .intercept({ path: '/apps/v3/x/y/', method: 'GET', headers: AUTH })
      .reply(200, { uuid: ID, logs: 'followed' }, { headers: JSON_HEADERS });
    expect((await client().deployments.logs(ID)).logs).toBe('followed');
    agent.assertNoPendingInterceptors();

    pool()
      .intercept({ path: `/apps/v3/backups/${ID}/`, method: 'GET' })
      .reply(308, '', { headers: { location: `/apps/v3/backups/${ID}/?v=2` } });
    pool()
      .intercept({ path: `/apps/v3/backups/${ID}/?v=2`, method: 'GET', headers: AUTH })
      .reply(200, { uuid: ID }, { headers: JSON_HEADERS });
    expect((await client().backups.get(ID)).uuid).toBe(ID);
    agent.assertNoPendingInterceptors();
  });

  it('remembers a permanent redirect to the slashed path for the route, and asks there directly next time', async () => {
    const OTHER = 'fwwk5i3acnao5mfq6263ennkfe';
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/logs`, method: 'GET' })
      .reply(301, '', { headers: { location: `/apps/v3/deployments/${ID}/logs/` } });
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/logs/`, method: 'GET' })
      .reply(200, { uuid: ID, logs: 'first' }, { headers: JSON_HEADERS });
    // The second call, for another deployment, has no slashless interceptor: it must not be asked.
    pool()
      .intercept({ path: `/apps/v3/deployments/${OTHER}/logs/`, method: 'GET', headers: AUTH })
      .reply(200, { uuid: OTHER, logs: 'second' }, { headers: JSON_HEADERS });
    const c = client();
    expect((await c.deployments.logs(ID)).logs).toBe('first');
    expect((await c.deployments.logs(OTHER)).logs).toBe('second');
    agent.assertNoPendingInterceptors();
  });

  it('does not remember a temporary redirect (302, 307)', async () => {
    for (const status of [302, 307]) {
      pool()
        .intercept({ path: `/apps/v3/deployments/${ID}/logs`, method: 'GET' })
        .reply(status, '', { headers: { location: `/apps/v3/deployments/${ID}/logs/` } })
        .times(2);
      pool()
        .intercept({ path: `/apps/v3/deployments/${ID}/logs/`, method: 'GET' })
        .reply(200, { uuid: ID, logs: 'ok' }, { headers: JSON_HEADERS })
        .times(2);
      const c = client();
      await c.deployments.logs(ID);
      await c.deployments.logs(ID);
      agent.assertNoPendingInterceptors();
    }
  });

  it('forgets a remembered slash when the slashed path answers 404, and asks as the CLI does', async () => {
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/logs`, method: 'GET' })
      .reply(308, '', { headers: { location: `/apps/v3/deployments/${ID}/logs/` } });
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/logs/`, method: 'GET' })
      .reply(200, { uuid: ID, logs: 'slashed' }, { headers: JSON_HEADERS });
    const c = client();
    expect((await c.deployments.logs(ID)).logs).toBe('slashed');
    // The API's routes changed: the slashed spelling is gone, the slashless one answers.
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/logs/`, method: 'GET' })
      .reply(404, { detail: 'Not found.' }, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/logs`, method: 'GET' })
      .reply(200, { uuid: ID, logs: 'slashless' }, { headers: JSON_HEADERS })
      .times(2);
    expect((await c.deployments.logs(ID)).logs).toBe('slashless');
    expect((await c.deployments.logs(ID)).logs).toBe('slashless');
    agent.assertNoPendingInterceptors();
  });

  it('stops after three hops', async () => {
    for (let i = 0; i < 4; i++) {
      pool()
        .intercept({ path: `/apps/v3/r${i}/`, method: 'GET' })
        .reply(301, '', { headers: { location: `/apps/v3/r${i + 1}/` } });
    }
    pool().intercept({ path: '/apps/v3/r4/', method: 'GET' }).reply(200, {}, { headers: JSON_HEADERS });
    const err = await client()
      .request('GET', '/apps/v3/r0/')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectError);
    expect((err as Error).message).toContain('more than 3 times');
    expect(agent.pendingInterceptors().map((i) => i.path)).toEqual(['/apps/v3/r4/']);
  });

  it('never follows a redirect to another origin or outside the base path, so the token stays home', async () => {
    pool()
      .intercept({ path: `/apps/v3/deployments/${ID}/`, method: 'GET' })
      .reply(302, '', { headers: { location: `https://evil.example/steal?t=${TOKEN}` } });
    pool('https://evil.example').intercept({ path: /.*/, method: 'GET' }).reply(200, deployment);
    const err = await client()
      .deployments.get(ID)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectError);
    expect((err as Error).message).toContain('away from the configured API');
    expect((err as Error).message).not.toContain(TOKEN);
    expect(agent.pendingInterceptors()).toHaveLength(1); // evil.example was never asked

    const prefixed = 'https://api.example.test/divio';
    pool()
      .intercept({ path: `/divio/apps/v3/deployments/${ID}/`, method: 'GET' })
      .reply(301, '', { headers: { location: `/other/apps/v3/deployments/${ID}/` } });
    const outside = await client({ baseUrl: prefixed })
      .deployments.get(ID)
      .catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(RedirectError);
  });

  it('never follows a redirect on a write: an error that says it was not sent again', async () => {
    pool()
      .intercept({ path: '/apps/v3/deployments/', method: 'POST' })
      .reply(301, '', { headers: { location: '/apps/v3/deployments/new/' } });
    pool().intercept({ path: '/apps/v3/deployments/new/', method: 'POST' }).reply(201, deployment);
    const err = await client()
      .deployments.create({ environment: ID })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectError);
    expect((err as RedirectError).status).toBe(301);
    expect((err as RedirectError).code).toBe('redirect');
    expect((err as Error).message).toContain('Writes never follow redirects, so it was not sent again');
    expect(agent.pendingInterceptors().map((i) => i.path)).toEqual(['/apps/v3/deployments/new/']);
  });
});

describe('403 and the token page', () => {
  it('a 403 on the token check is a refused token, with the token page of the configured zone', async () => {
    pool('https://api.dev.aldryn.net')
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(403, { detail: 'Invalid token.' });
    const err = await client({ baseUrl: undefined, zone: 'dev.aldryn.net' })
      .users.me()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).tokenPage).toBe(
      'https://control.dev.aldryn.net/account/access-tokens/',
    );
    expect((err as Error).message).toContain('https://control.dev.aldryn.net/account/access-tokens/');
  });

  it('a 403 elsewhere is a refused token when the token check says so', async () => {
    pool()
      .intercept({ path: `/apps/v3/backups/${ID}/`, method: 'GET' })
      .reply(403, { detail: 'Invalid token.' });
    pool().intercept({ path: '/iam/v3/me/', method: 'GET' }).reply(403, { detail: 'Invalid token.' });
    const err = await client()
      .backups.get(ID)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).status).toBe(403);
    agent.assertNoPendingInterceptors();
  });

  it('a 403 with a valid token is a permission error that names the object', async () => {
    const detail = { detail: 'You do not have permission to perform this action.' };
    pool()
      .intercept({ path: `/apps/v3/backups/${ID}/`, method: 'GET' })
      .reply(403, detail);
    pool().intercept({ path: '/apps/v3/backups/', method: 'POST' }).reply(403, detail);
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(200, { uuid: ID, email: 'a@b.example' }, { headers: JSON_HEADERS })
      .times(2);
    const c = client();
    const get = await c.backups.get(ID).catch((e: unknown) => e);
    expect(get).toBeInstanceOf(PermissionDeniedError);
    expect((get as Error).message).toContain(`may not access backup ${ID}`);
    expect((get as Error).message).toContain("check that account's access");
    const env = 'fwwk5i3acnao5mfq6263ennkfe';
    const post = await c.backups.create({ environment: env, services: [ID] }).catch((e: unknown) => e);
    expect((post as Error).message).toContain(`may not access a new backup of environment ${env}`);
    agent.assertNoPendingInterceptors();
  });

  it('derives the token page from the zone or an api.<zone> base URL, else the default zone', () => {
    expect(tokenPageUrl({ zone: 'dev.aldryn.net' })).toBe(
      'https://control.dev.aldryn.net/account/access-tokens/',
    );
    expect(tokenPageUrl({ baseUrl: 'https://api.divio.com' })).toBe(
      'https://control.divio.com/account/access-tokens/',
    );
    expect(tokenPageUrl({ zone: 'https://api.example.test' })).toBe(
      'https://control.example.test/account/access-tokens/',
    );
    expect(tokenPageUrl({ baseUrl: 'http://127.0.0.1:4100' })).toBe(
      'https://control.divio.com/account/access-tokens/',
    );
  });
});

describe('against the sandbox, both route spellings and both refusal statuses', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const deploymentId = uuidFromName('deployment:shop/live:0');

  for (const slashes of ['append-slash', 'cli-slashless'] as SlashMode[]) {
    it(`get_deployment_log and create_backup_download work with ${slashes} routes`, async () => {
      h = await startHarness({ sandbox: { slashes }, config: { confirmMode: 'none' } });
      const log = await h.call('get_deployment_log', { deployment: deploymentId });
      expect(log.isError, textOf(log)).toBeFalsy();
      const list = await h.call('list_backups', { app: 'blog', environment: 'test' });
      const backup = (
        (list.structuredContent?.['backups'] ?? []) as { uuid: string; success: string | null }[]
      ).find((b) => b.success === 'SUCCESS')?.uuid;
      const dl = await h.call('create_backup_download', { backup });
      expect(dl.isError, textOf(dl)).toBeFalsy();

      const logGets = h.sandbox.requestLog.filter((e) =>
        e.path.startsWith(`/apps/v3/deployments/${deploymentId}/logs`),
      );
      const bdsiGets = h.sandbox.requestLog.filter((e) =>
        /^\/apps\/v3\/backup-download-service-instances\/[a-z2-7]{26}\/?$/.test(e.path),
      );
      // The client always sends the CLI's spelling; the sandbox redirects it only in append-slash mode.
      expect(logGets[0]?.path).toBe(`/apps/v3/deployments/${deploymentId}/logs`);
      expect(bdsiGets[0]?.path.endsWith('/')).toBe(false);
      if (slashes === 'append-slash') {
        expect(logGets.map((e) => e.status)).toEqual([301, 200]);
        expect(logGets[1]?.path).toBe(`/apps/v3/deployments/${deploymentId}/logs/`);
        expect(bdsiGets[0]?.status).toBe(301);
      } else {
        expect(logGets.map((e) => e.status)).toEqual([200]);
        expect(bdsiGets.every((e) => e.status === 200)).toBe(true);
      }
    });
  }

  it('cli-slashless mode redirects the slashed spelling of those routes, and still serves the rest slashed', async () => {
    h = await startHarness({ sandbox: { slashes: 'cli-slashless' } });
    const headers = { Authorization: `Token ${h.sandbox.token}` };
    const slashed = await fetch(`${h.sandbox.url}/apps/v3/deployments/${deploymentId}/logs/`, {
      headers,
      redirect: 'manual',
    });
    expect(slashed.status).toBe(301);
    expect(slashed.headers.get('location')).toBe(`/apps/v3/deployments/${deploymentId}/logs`);
    const detail = await fetch(`${h.sandbox.url}/apps/v3/deployments/${deploymentId}`, {
      headers,
      redirect: 'manual',
    });
    expect(detail.status).toBe(301);
    expect(detail.headers.get('location')).toBe(`/apps/v3/deployments/${deploymentId}/`);
  });

  for (const status of [401, 403] as const) {
    it(`an invalid token answered ${status} tells the model the token was refused and where to get one`, async () => {
      h = await startHarness({
        sandbox: { invalidTokenStatus: status },
        clientToken: 'not-the-sandbox-token',
      });
      for (const [tool, args] of [
        ['list_applications', {}],
        ['get_deployment', { deployment: deploymentId }],
      ] as const) {
        const r = await h.call(tool, args);
        expect(r.isError).toBe(true);
        const text = textOf(r);
        expect(text).toContain(`Divio rejected the API token (${status})`);
        expect(text).toContain('https://control.divio.com/account/access-tokens/');
        expect(text).not.toContain('not-the-sandbox-token');
        expect(text).not.toContain('not allowed');
      }
      const refused = h.sandbox.requestLog.filter((e) => e.status === status);
      expect(refused.length).toBeGreaterThan(0);
    });
  }

  it('a 403 with a valid token is a permission error naming the object, not a token problem', async () => {
    h = await startHarness();
    const backup = uuidFromName('backup:shop/live:0');
    h.sandbox.faults.set({
      rules: [
        {
          method: 'GET',
          path: `/apps/v3/backups/${backup}/`,
          error: { status: 403, body: { detail: 'You do not have permission to perform this action.' } },
        },
      ],
    });
    const r = await h.call('get_backup', { backup });
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toContain(`may not access backup ${backup}`);
    expect(text).toContain("check that account's access");
    expect(text).not.toContain('rejected the API token');
    expect(h.sandbox.requestLog.map((e) => e.path)).toContain('/iam/v3/me/');
  });
});
