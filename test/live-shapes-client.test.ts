import type { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import {
  FIXTURE_BASE,
  fixture,
  fixtureAgent,
  fixtureNames,
  ID,
  type Json,
  ROUTE,
  resultsOf,
  serve,
} from './helpers/live-shapes.js';

// The client against the contract fixtures (live response shapes) through undici's MockAgent.

let agent: MockAgent;
let client: DivioClient;

beforeEach(() => {
  agent = fixtureAgent();
  client = new DivioClient({
    token: 'fixture-token-0123456789abcdef0123456789',
    baseUrl: FIXTURE_BASE,
    dispatcher: agent,
    retry: { maxRetries: 0 },
  });
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await client.close();
  await agent.close();
});

// 26 lowercase base32 characters carrying 128 bits: the last character holds 3 bits and 2 zero bits.
const LIVE_ID = /^[a-z2-7]{25}[aeimquy4]$/;
const ID_KEYS = new Set([
  'uuid',
  'organisation',
  'region',
  'repository',
  'application',
  'environment',
  'primary_domain',
  'ondemand_backup_retention_config',
  'scheduled_backup_config',
  'org_membership',
  'backup',
  'service',
  'service_instance',
  'service_instance_backups',
]);

function collectIds(value: unknown, key: string | undefined, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectIds(item, key, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectIds(v, k, out);
  } else if (typeof value === 'string' && key && ID_KEYS.has(key)) out.push(value);
}

describe('contract fixtures', () => {
  it('use only live-format IDs (26 lowercase base32 characters, 128 bits)', () => {
    const names = fixtureNames();
    expect(names.length).toBeGreaterThanOrEqual(20);
    const ids: string[] = [];
    // Log entries' `service` is a name (web, worker), not an ID.
    for (const name of names.filter((n) => !n.startsWith('environment-logs')))
      collectIds(fixture(name), undefined, ids);
    expect(ids.length).toBeGreaterThan(100);
    expect(ids.filter((id) => !LIVE_ID.test(id))).toEqual([]);
  });

  it('say done for a successful deployment and carry the live environment list fields', () => {
    expect(fixture('deployment-done')).toMatchObject({ status: 'done', success: true });
    expect(Object.keys(fixture('deployment-done')).sort()).toEqual(
      ['uuid', 'environment', 'region', 'started_at', 'ended_at', 'status', 'is_usable', 'success'].sort(),
    );
    for (const env of resultsOf('environments')) {
      expect(Object.keys(env).sort()).toEqual(
        [
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
        ].sort(),
      );
      expect(env['pending_commits_lookup']).toMatch(/^[0-9a-f]{40}\.\.[\w/-]+$/);
    }
  });
});

describe('client against live shapes', () => {
  it('parses every list envelope without losing or reformatting a field', async () => {
    const routes = [
      ROUTE.organisations(100),
      ROUTE.applications(100),
      ROUTE.environments(),
      ROUTE.serviceInstances(100),
      ROUTE.backups(20),
      ROUTE.environmentVariables(),
      ROUTE.domains(),
    ];
    serve(agent, ...routes);
    const [orgs, apps, envs, sis, backups, vars, domains] = await Promise.all([
      client.organisations.list({ page_size: 100 }),
      client.applications.list({ page_size: 100 }),
      client.environments.list({ application: ID.app, page_size: 100 }),
      client.serviceInstances.list({ environment: ID.envLive, page_size: 100 }),
      client.backups.list({ environment: ID.envLive, page_size: 20 }),
      client.environmentVariables.list({ environment: ID.envLive, page_size: 20 }),
      client.domains.list({ application: ID.app, page_size: 20 }),
    ]);
    const got = [orgs, apps, envs, sis, backups, vars, domains];
    got.forEach((page, i) => {
      expect(page).toEqual(routes[i]?.[1]);
    });
    const live = envs.results.find((e) => e.slug === 'live');
    expect(live?.uuid).toBe(ID.envLive);
    expect(live?.application).toBe(ID.app);
    expect(live?.primary_domain).toBe(ID.primaryDomain);
    expect(live?.pending_commits_lookup).toBe('ea6bf7d49249a7b2bba72ac0472eacd20533d021..main');
    expect(live?.environment_variables).toContain('TRACKING_API_KEY');
    expect(envs.results.find((e) => e.slug === 'test')?.primary_domain).toBeNull();
  });

  it('parses detail objects: application, environments (nested application), deployments, backup, me', async () => {
    const routes = [
      ROUTE.application(),
      ROUTE.envLive(),
      ROUTE.envTest(),
      ROUTE.deployment(ID.depDone, 'deployment-done'),
      ROUTE.deployment(ID.depFailed, 'deployment-failed'),
      ROUTE.deployment(ID.depRunning, 'deployment-running'),
      ROUTE.backup(),
      ROUTE.me(),
    ];
    serve(agent, ...routes);
    const got = await Promise.all([
      client.applications.get(ID.app),
      client.environments.get(ID.envLive),
      client.environments.get(ID.envTest),
      client.deployments.get(ID.depDone),
      client.deployments.get(ID.depFailed),
      client.deployments.get(ID.depRunning),
      client.backups.get(ID.backup),
      client.users.me(),
    ]);
    got.forEach((obj, i) => {
      expect(obj).toEqual(routes[i]?.[1]);
    });
    const [, live, , done, failed, running] = got as Json[];
    expect(live?.['application']).toMatchObject({ uuid: ID.app, slug: 'harbour' });
    expect(done).toMatchObject({ uuid: ID.depDone, status: 'done', success: true });
    expect(failed).toMatchObject({ status: 'failure', success: false });
    expect(running).toMatchObject({ ended_at: null, success: null });
  });

  it('reads a deployment log blob', async () => {
    serve(agent, ROUTE.deploymentLogs(ID.depFailed, 'deployment-logs-failed'));
    const log = await client.deployments.logs(ID.depFailed);
    expect(log.uuid).toBe(ID.depFailed);
    expect(log.logs).toContain('No matching distribution found for harbour-geo==2.0.0');
  });

  it('pages cronjobs through the limit/offset envelope by following next', async () => {
    serve(agent, ROUTE.cronjobs(), ROUTE.cronjobsPage2());
    const all = [];
    for await (const job of client.cronjobs.iterate({ environment: ID.envLive, limit: 2 })) all.push(job);
    expect(all.map((j) => j.uuid)).toEqual([
      'co6adkuuivdg7aaopg2o7edkhy',
      'iaioo6jnn5h7za22rxsbcsmfwa',
      'a62uoq3zpzdmnkdkikxjgb7kxu',
    ]);
    expect(all.map((j) => j.frequency)).toEqual(['DAILY', 'HOURLY', 'EVERY10MIN']);
  });

  it('reads environment logs through the cursor envelope (no count) and follows previous', async () => {
    serve(agent, ROUTE.envLogs('limit=5'), ROUTE.envLogsOlder());
    const page = await client.environments.logs(ID.envLive, { limit: 5 });
    expect(page).toEqual(fixture('environment-logs'));
    expect(page.results).toHaveLength(5);
    expect(page.previous).toMatch(/search_before=/);
    const older = await client.environments.logsPage(page.previous ?? '');
    expect(older.results.map((e) => e.message)).toEqual([
      'Booting worker with pid: 17',
      'Listening at: http://0.0.0.0:80 (1)',
    ]);
  });

  it('resolves an app by slug and an environment by slug to their base32 IDs', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments());
    const app = await client.resolveApplication('harbour');
    expect(app.uuid).toBe(ID.app);
    const env = await client.resolveEnvironment(app, 'live');
    expect(env.uuid).toBe(ID.envLive);
    expect(env.branch).toBe('main');
  });
});
