import type { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allTools } from '../src/tools/index.js';
import {
  type DispatcherHarness,
  type Era,
  startDispatcherHarness,
  type ToolResult,
  textOf,
} from './helpers/harness.js';
import {
  FIXTURE_BASE,
  fixture,
  fixtureAgent,
  ID,
  type Json,
  LIVE_RELEASED_COMMIT,
  pageOf,
  ROUTE,
  resultsOf,
  serve,
} from './helpers/live-shapes.js';

// Every read tool through a real MCP client, against the contract fixtures (live response shapes) served by
// undici's MockAgent: no sandbox, no network. Each test serves exactly the calls the tool should make; an
// unexpected request fails at once and an unused route fails in afterEach.

let agent: MockAgent;
let h: DispatcherHarness;

async function start(era: Era = 'modern'): Promise<void> {
  h = await startDispatcherHarness({ dispatcher: agent, baseUrl: FIXTURE_BASE, era });
}

beforeEach(async () => {
  agent = fixtureAgent();
  await start();
});

afterEach(async () => {
  await h.close();
  agent.assertNoPendingInterceptors();
  await agent.close();
});

/** Tools that answered a fixture-backed call without error in this file (checked by the last test). */
const answered = new Set<string>();

async function call(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const r = await h.call(name, args);
  if (!r.isError) answered.add(name);
  return r;
}

const sc = (r: ToolResult): Json => {
  expect(r.isError, textOf(r)).toBeFalsy();
  expect(r.structuredContent).toBeDefined();
  return r.structuredContent as Json;
};
const rows = (r: ToolResult, key: string): Json[] => sc(r)[key] as Json[];

/** The serialized result: a secret must not appear anywhere in it. */
const everything = (r: ToolResult): string => JSON.stringify(r);

const LIVE_VARIABLE_NAMES = (resultsOf('environments').find((e) => e['slug'] === 'live') as Json)[
  'environment_variables'
] as string[];

describe('apps tools on live shapes', () => {
  it('list_organisations passes base32 IDs through unchanged', async () => {
    serve(agent, ROUTE.organisations(20));
    const r = await call('list_organisations');
    expect(rows(r, 'organisations')).toEqual([
      { uuid: ID.orgHarbour, name: 'Harbour Logistics' },
      { uuid: ID.orgBeacon, name: 'Beacon Studio' },
    ]);
    expect(sc(r)['has_more']).toBe(false);
    expect(textOf(r)).toContain(`"Harbour Logistics" (${ID.orgHarbour})`);
  });

  it('list_applications names each organisation from its base32 ID', async () => {
    serve(agent, ROUTE.organisations(100), ROUTE.applications(20));
    const r = await call('list_applications');
    expect(rows(r, 'applications')).toEqual([
      { slug: 'harbour', name: 'Harbour Tracking', uuid: ID.app, organisation: 'Harbour Logistics' },
      { slug: 'lantern', name: 'Lantern Site', uuid: ID.otherApp, organisation: 'Beacon Studio' },
    ]);
  });

  it('list_applications filters by an organisation name or its base32 ID', async () => {
    const byOrg: [string, Json] = [
      `/apps/v3/applications/?organisation=${ID.orgBeacon}&page_size=20`,
      { count: 1, next: null, previous: null, results: [resultsOf('applications')[1] as Json] },
    ];
    serve(agent, ROUTE.organisations(100), byOrg);
    for (const organisation of ['beacon studio', ID.orgBeacon]) {
      const r = await call('list_applications', { organisation });
      expect(rows(r, 'applications').map((a) => a['uuid'])).toEqual([ID.otherApp]);
    }
  });

  it('get_application reads done as success and a running deployment as running', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.envLive(), ROUTE.envTest());
    const r = await call('get_application', { app: 'harbour' });
    const out = sc(r);
    expect(out['uuid']).toBe(ID.app);
    expect(out['organisation']).toBe(ID.orgHarbour);
    const envs = out['environments'] as Json[];
    const test = envs.find((e) => e['slug'] === 'test') as Json;
    const live = envs.find((e) => e['slug'] === 'live') as Json;
    expect(test['uuid']).toBe(ID.envTest);
    expect(test['last_deployment']).toMatchObject({ uuid: ID.depTest, status: 'done', success: true });
    expect(test['deploy_running']).toBe(false);
    expect(live['last_deployment']).toMatchObject({ uuid: ID.depFailed, success: false });
    expect(live['deploy_running']).toBe(true);
    const text = textOf(r);
    expect(text).toMatch(/- test: branch "develop", .*last deploy succeeded/);
    expect(text).toMatch(
      /- live \[production\]: branch "main", .*last deploy failed \(failure\), a deploy is running now/,
    );
  });

  it('get_environment shows the released commit from the git range and the variable names', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.envLive(), ROUTE.serviceInstances(100));
    const r = await call('get_environment', { app: 'harbour', environment: 'live' });
    const out = sc(r);
    expect(out).toMatchObject({
      app: 'harbour',
      environment: 'live',
      uuid: ID.envLive,
      branch: 'main',
      production_grade: true,
      pending_commits: 3,
      released_commit: LIVE_RELEASED_COMMIT,
      variable_names: LIVE_VARIABLE_NAMES,
    });
    expect(out['running_deployment']).toMatchObject({
      uuid: ID.depRunning,
      status: 'deploying',
      success: null,
    });
    expect(out['last_finished_deployment']).toMatchObject({ uuid: ID.depFailed, success: false });
    expect(out['released_deployment']).toMatchObject({ uuid: ID.depDone, status: 'done', success: true });
    expect(out['service_instances']).toEqual([
      { uuid: 'eo7mnsqkrvgwfgua5smt5d2y7e', type: 'DATABASE', prefix: 'DEFAULT', status: 'READY' },
      { uuid: 'hmpipaa4zfg6jfdps7gl2pz4na', type: 'STORAGE', prefix: 'DEFAULT', status: 'NEW' },
    ]);
    const text = textOf(r);
    expect(text).toContain(`pending commits: 3 (released commit ${LIVE_RELEASED_COMMIT.slice(0, 10)})`);
    expect(text).toContain(`running deployment: running (deploying) — ${ID.depRunning}`);
    expect(text).toContain(`released deployment: succeeded — ${ID.depDone}`);
    expect(text).toContain('last finished deployment: failed (failure)');
    expect(text).toContain('SITE_NAME, STAGE, DEBUG, SECRET_KEY');
  });

  it('get_environment with only the list fields: pending count unknown, the range still gives the commit', async () => {
    const live = fixture('environment-live');
    delete live['pending_commit_count'];
    delete live['has_pending_commits'];
    delete live['environment_variables'];
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.envLive(live), ROUTE.serviceInstances(100));
    const r = await call('get_environment', { app: 'harbour', environment: 'live' });
    // The names fall back to the list view the environment was resolved from.
    expect(sc(r)).toMatchObject({
      pending_commits: null,
      released_commit: LIVE_RELEASED_COMMIT,
      variable_names: LIVE_VARIABLE_NAMES,
    });
    expect(textOf(r)).toContain(
      `pending commits: unknown (released commit ${LIVE_RELEASED_COMMIT.slice(0, 10)})`,
    );
  });

  it('get_environment reads outcomes from success, whatever status says', async () => {
    const live = fixture('environment-live');
    // A finished deployment whose status name says done but whose success is false failed; one whose status
    // sounds final and that already has an end time is still running while success is null.
    live['last_finished_deployment'] = { ...(live['last_finished_deployment'] as Json), status: 'done' };
    live['currently_running_deployment'] = {
      ...(live['currently_running_deployment'] as Json),
      status: 'failure',
      ended_at: '2026-12-01T09:44:02Z',
    };
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.envLive(live), ROUTE.serviceInstances(100));
    const text = textOf(await call('get_environment', { app: 'harbour', environment: 'live' }));
    expect(text).toContain(`last finished deployment: failed (done) — ${ID.depFailed}`);
    expect(text).toContain(`running deployment: running (failure) — ${ID.depRunning}`);
  });

  it('diagnose_environment on live shapes: failed deploy, running deploy, runtime errors, last good backup', async () => {
    serve(
      agent,
      ROUTE.appBySlug(),
      ROUTE.environments(),
      ROUTE.envLive(),
      ROUTE.serviceInstances(100),
      ROUTE.envLogs('from_ts=2026-12-01T08%3A00%3A00.000Z&limit=1000'),
      ROUTE.backups(50),
      ROUTE.deploymentLogs(ID.depFailed, 'deployment-logs-failed'),
    );
    const r = await call('diagnose_environment', {
      app: 'harbour',
      environment: 'live',
      since: '2026-12-01T08:00:00Z',
    });
    const out = sc(r);
    expect(out['verdict']).toBe('failing');
    const findings = (out['findings'] as Json[]).map((f) => `${f['severity']}: ${f['message']}`);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^info: A deployment is running now: running \\(deploying\\) \\(${ID.depRunning}\\)`),
        ),
        expect.stringMatching(
          new RegExp(
            `^error: The last deployment failed .*\\(${ID.depFailed}\\)\\. It never went live: ${ID.depDone} .* is still serving, so the failed deploy is not the cause of the runtime errors`,
          ),
        ),
        expect.stringMatching(/^warning: STORAGE service DEFAULT is not provisioned/),
        expect.stringMatching(/^info: 3 commit\(s\) on branch "main" are not deployed yet/),
      ]),
    );
    expect((out['failed_deploy_excerpt'] as string[]).join('\n')).toContain(
      'No matching distribution found for harbour-geo==2.0.0',
    );
    // The error line and the multi-line traceback written a millisecond later are one failure.
    expect(out['errors']).toMatchObject({ lines_scanned: 5, error_events: 1 });
    expect((out['errors'] as { groups: Json[] }).groups[0]).toMatchObject({
      signature: 'ERROR django.request: Internal Server Error: /api/shipments/<n>/',
      count: 1,
    });
    expect(out['last_successful_backup']).toEqual({
      uuid: ID.backup,
      created: '2026-12-01T02:00:11.403377Z',
    });
  });

  it('get_fleet_overview on live shapes: one row per environment, the failed deploy not live', async () => {
    const since = 'from_ts=2026-12-01T08%3A00%3A00.000Z&limit=1000';
    const forTest = (route: [string, Json]): [string, Json] => [
      route[0].replace(ID.envLive, ID.envTest),
      route[1],
    ];
    serve(
      agent,
      ROUTE.organisations(100),
      [
        `/apps/v3/applications/?page_size=100&organisation=${ID.orgHarbour}`,
        pageOf(resultsOf('applications').filter((a) => a['slug'] === 'harbour')),
      ],
      ROUTE.environments(),
      ROUTE.envLive(),
      ROUTE.envTest(),
      ROUTE.envLogs(since),
      forTest(ROUTE.envLogs(since)),
      ROUTE.backups(20),
      forTest(ROUTE.backups(20)),
      ROUTE.serviceInstances(100),
      forTest(ROUTE.serviceInstances(100)),
    );
    const r = await call('get_fleet_overview', {
      organisation: 'Harbour Logistics',
      since: '2026-12-01T08:00:00Z',
    });
    const out = sc(r);
    expect(out['organisation']).toBe('Harbour Logistics');
    const byEnv = new Map((out['rows'] as Json[]).map((row) => [row['environment'], row]));
    expect(byEnv.get('live')).toMatchObject({
      app: 'harbour',
      production_grade: true,
      status: 'failing',
      last_deploy: { result: 'failed', uuid: ID.depFailed, live: false },
      serving_deployment: ID.depDone,
      last_successful_backup: { uuid: ID.backup },
      unprovisioned_services: ['STORAGE DEFAULT'],
    });
    expect(byEnv.get('test')).toMatchObject({ last_deploy: { result: 'succeeded', uuid: ID.depTest } });
    expect(textOf(r)).toContain('harbour/live [production]: FAILING');
  });

  it('serves a legacy-era client the same way', async () => {
    await h.close();
    await start('legacy');
    serve(agent, ROUTE.organisations(20));
    const r = await call('list_organisations');
    expect(rows(r, 'organisations').map((o) => o['uuid'])).toEqual([ID.orgHarbour, ID.orgBeacon]);
  });
});

describe('logs tool on live shapes', () => {
  it('get_environment_logs reads the cursor envelope, sanitizes entries and pages back through previous', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.envLogs('limit=5'), ROUTE.envLogsOlder());
    const first = await call('get_environment_logs', { app: 'harbour', environment: 'live', limit: 5 });
    const entries = rows(first, 'entries');
    expect(entries.map((e) => e['service'])).toEqual(['web', 'web', 'web', 'cronjob', 'worker']);
    expect(entries[1]?.['message']).toBe('ERROR django.request: Internal Server Error: /api/shipments/8812/');
    // The carriage return and the terminal escape in the traceback line do not survive.
    expect(entries[2]?.['message']).not.toMatch(/[\r\u001b]/);
    expect(entries[2]?.['message']).toContain('File "/app/harbour/geo.py", line 41, in locate');
    expect(sc(first)['has_more']).toBe(true);
    const cursor = sc(first)['next_cursor'];
    expect(cursor).toEqual(expect.any(String));
    const older = await call('get_environment_logs', {
      app: 'harbour',
      environment: 'live',
      limit: 5,
      cursor,
    });
    expect(rows(older, 'entries').map((e) => e['timestamp'])).toEqual([
      '2026-12-01T09:44:58Z',
      '2026-12-01T09:45:03.800511Z',
    ]);
    expect(sc(older)['has_more']).toBe(false);
  });
});

describe('deploy tools on live shapes', () => {
  it('list_deployments: done is success, null success is running, IDs and slugs unchanged', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.deployments(), ...ROUTE.deploymentCounts());
    const r = await call('list_deployments', { app: 'harbour' });
    expect(sc(r)['counts']).toEqual({ total: 4, succeeded: 2, failed: 1, running: 1, capped: false });
    const deployments = rows(r, 'deployments');
    expect(deployments.map((d) => [d['uuid'], d['environment'], d['status'], d['success']])).toEqual([
      [ID.depRunning, 'live', 'deploying', null],
      [ID.depFailed, 'live', 'failure', false],
      [ID.depDone, 'live', 'done', true],
      [ID.depTest, 'test', 'done', true],
    ]);
    // No `duration` in the live shape: it is computed from the timestamps.
    expect(deployments.map((d) => d['duration_seconds'])).toEqual([null, 216, 94, 164]);
    const text = textOf(r);
    expect(text).toContain(`- ${ID.depRunning} live: running (deploying)`);
    expect(text).toContain(`- ${ID.depFailed} live: failed (failure)`);
    expect(text).toContain(`- ${ID.depDone} live: succeeded`);
    expect(text).toContain(`- ${ID.depTest} test: succeeded`);
  });

  it('get_deployment takes a base32 ID and reads done as success', async () => {
    serve(agent, ROUTE.deployment(ID.depDone, 'deployment-done'), ROUTE.envLive());
    const r = await call('get_deployment', { deployment: ID.depDone });
    expect(sc(r)).toMatchObject({
      uuid: ID.depDone,
      status: 'done',
      success: true,
      environment: 'live',
      environment_uuid: ID.envLive,
      duration_seconds: 94,
      git_commit: null,
    });
    expect(textOf(r)).toContain(`Deployment ${ID.depDone} of environment live: succeeded`);
  });

  it('get_deployment_log of a failed deployment by its base32 ID shows the failing part', async () => {
    serve(
      agent,
      ROUTE.deploymentLogs(ID.depFailed, 'deployment-logs-failed'),
      ROUTE.deployment(ID.depFailed, 'deployment-failed'),
    );
    const r = await call('get_deployment_log', { deployment: ID.depFailed, tail: 3 });
    const out = sc(r);
    expect(out['deployment']).toBe(ID.depFailed);
    expect(out['total_lines']).toBe(11);
    expect(out['lines']).toEqual([
      'ERROR: No matching distribution found for harbour-geo==2.0.0',
      "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1",
      'Build failed',
    ]);
    expect((out['failure_excerpt'] as string[]).join('\n')).toContain(
      'ERROR: Could not find a version that satisfies the requirement harbour-geo==2.0.0',
    );
  });

  it("get_deployment_log by app and environment follows the environment's running deployment", async () => {
    serve(
      agent,
      ROUTE.appBySlug(),
      ROUTE.environments(),
      ROUTE.envLive(),
      ROUTE.deploymentLogs(ID.depRunning, 'deployment-logs-running'),
      ROUTE.deployment(ID.depRunning, 'deployment-running'),
    );
    const r = await call('get_deployment_log', { app: 'harbour', environment: 'live' });
    const out = sc(r);
    expect(out['deployment']).toBe(ID.depRunning);
    expect(out['failure_excerpt']).toBeNull();
    expect((out['lines'] as string[]).at(-1)).toBe('Step 5/9 : RUN pip install -r requirements.txt');
  });
});

describe('deploy_environment on live shapes', () => {
  it('attaching to a running deployment waits for success, not for ended_at or a final-sounding status', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.envLive());
    const running = fixture('deployment-running');
    // Inferred transitional state: the deployment has an end time and a final-sounding status, but no result yet.
    const finishing = { ...running, status: 'done', ended_at: '2026-12-01T09:44:02Z' };
    const done = { ...finishing, is_usable: true, success: true };
    const pool = agent.get(FIXTURE_BASE);
    for (const body of [running, finishing, done]) {
      pool
        .intercept({ path: `/apps/v3/deployments/${ID.depRunning}/`, method: 'GET' })
        .reply(200, body, { headers: { 'content-type': 'application/json' } });
    }
    const r = await call('deploy_environment', { app: 'harbour', environment: 'live', wait_seconds: 30 });
    expect(sc(r)['result']).toMatchObject({
      attached: true,
      finished: true,
      deployment: { uuid: ID.depRunning, status: 'done', success: true },
      failure_excerpt: null,
    });
    expect(textOf(r)).toContain(
      `Attached to the running deployment ${ID.depRunning} of harbour/live: succeeded.`,
    );
  });
});

describe('backup tools on live shapes', () => {
  it('list_backups joins the service-instance backups by their base32 IDs', async () => {
    serve(
      agent,
      ROUTE.appBySlug(),
      ROUTE.environments(),
      ROUTE.backups(20),
      ROUTE.serviceInstanceBackups([ID.sibDb, ID.sibStorage, ID.sibPartial]),
    );
    const r = await call('list_backups', { app: 'harbour', environment: 'live' });
    const backups = rows(r, 'backups');
    expect(backups.map((b) => [b['uuid'], b['state'], b['success']])).toEqual([
      [ID.backup, 'COMPLETED', 'SUCCESS'],
      [ID.backupPartial, 'COMPLETED', 'PARTIAL'],
    ]);
    expect(backups[0]?.['services']).toEqual([
      expect.objectContaining({ uuid: ID.sibDb, type: 'DATABASE', size_bytes: 52428800, seconds_taken: 48 }),
      expect.objectContaining({ uuid: ID.sibStorage, type: 'STORAGE', size_bytes: 365834241 }),
    ]);
    expect(backups[1]?.['services']).toEqual([
      expect.objectContaining({ uuid: ID.sibPartial, errors: ['Object storage listing timed out'] }),
    ]);
    expect(textOf(r)).toContain(`${ID.backupPartial} live 2026-11-30T02:00:09Z`);
  });

  it('get_backup takes a base32 ID', async () => {
    serve(agent, ROUTE.backup(), ROUTE.serviceInstanceBackups([ID.sibDb, ID.sibStorage]), ROUTE.envLive());
    const r = await call('get_backup', { backup: ID.backup });
    expect(sc(r)).toMatchObject({
      uuid: ID.backup,
      environment: 'live',
      environment_uuid: ID.envLive,
      state: 'COMPLETED',
      success: 'SUCCESS',
    });
    expect((sc(r)['services'] as Json[]).map((s) => s['uuid'])).toEqual([ID.sibDb, ID.sibStorage]);
  });
});

describe('config tools on live shapes', () => {
  it('list_service_instances shows type, prefix and status per base32 ID', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.serviceInstances(20));
    const r = await call('list_service_instances', { app: 'harbour', environment: 'live' });
    expect(rows(r, 'services')).toEqual([
      {
        uuid: 'eo7mnsqkrvgwfgua5smt5d2y7e',
        type: 'DATABASE',
        prefix: 'DEFAULT',
        status: 'READY',
        service: 'hisuczdt2zg5znlzmp2zuintma',
      },
      {
        uuid: 'hmpipaa4zfg6jfdps7gl2pz4na',
        type: 'STORAGE',
        prefix: 'DEFAULT',
        status: 'NEW',
        service: '4hren4ecsbbn7luyhobzs6ozoe',
      },
    ]);
    expect(textOf(r)).toContain('- STORAGE prefix DEFAULT: NEW (hmpipaa4zfg6jfdps7gl2pz4na)');
  });

  it('list_environment_variables never returns the sensitive value the API sent', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.environmentVariables());
    const r = await call('list_environment_variables', { app: 'harbour', environment: 'live' });
    expect(rows(r, 'variables').map((v) => [v['name'], v['value'], v['sensitive'], v['read_only']])).toEqual([
      ['SITE_NAME', 'Harbour Tracking', false, false],
      ['DEBUG', 'False', false, false],
      ['TRACKING_API_KEY', null, true, false],
      ['DOMAIN_REDIRECTS', '["harbour-logistics.example"]', false, true],
    ]);
    expect(rows(r, 'variables')[2]?.['uuid']).toBe('crbusdlinrdovihppusto7ygn4');
    expect(everything(r)).not.toContain('trk_live_4f9a0c77e1b2d86a');
    expect(textOf(r)).toContain('TRACKING_API_KEY=[sensitive: value hidden]');
  });

  it('list_domains maps environment IDs to slugs', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.domains());
    const r = await call('list_domains', { app: 'harbour' });
    expect(rows(r, 'domains')).toEqual([
      {
        uuid: ID.primaryDomain,
        name: 'www.harbour-logistics.example',
        environment: 'live',
        primary: true,
        redirect_to_primary: false,
        tls: true,
        state: 'OK',
      },
      {
        uuid: 'rzofv7nx6vfgdc5575psvwkbb4',
        name: 'harbour-logistics.example',
        environment: 'live',
        primary: false,
        redirect_to_primary: true,
        tls: false,
        state: 'UNKNOWN',
      },
      {
        uuid: 'tfdw3a5im5cjzon635lbz54rhm',
        name: 'harbour-test.eu.aldryn.io',
        environment: 'test',
        primary: false,
        redirect_to_primary: false,
        tls: true,
        state: 'OK',
      },
    ]);
  });

  it('list_cronjobs pages through the limit/offset envelope', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.cronjobs(), ROUTE.cronjobsPage2());
    const first = await call('list_cronjobs', { app: 'harbour', environment: 'live', limit: 2 });
    expect(rows(first, 'cronjobs')).toEqual([
      {
        uuid: 'co6adkuuivdg7aaopg2o7edkhy',
        command: 'python manage.py clearsessions',
        frequency: 'DAILY',
        time: '02:30',
        time_zone: 'UTC',
        timeout_seconds: null,
        last_runs: null,
      },
      {
        uuid: 'iaioo6jnn5h7za22rxsbcsmfwa',
        command: 'python manage.py sync_carrier_status',
        frequency: 'HOURLY',
        time: ':15',
        time_zone: 'UTC',
        timeout_seconds: 900,
        last_runs: null,
      },
    ]);
    expect(sc(first)['has_more']).toBe(true);
    const second = await call('list_cronjobs', {
      app: 'harbour',
      environment: 'live',
      limit: 2,
      cursor: sc(first)['next_cursor'],
    });
    expect(rows(second, 'cronjobs')).toEqual([
      {
        uuid: 'a62uoq3zpzdmnkdkikxjgb7kxu',
        command: 'python manage.py poll_webhooks',
        frequency: 'EVERY10MIN',
        time: null,
        time_zone: 'UTC',
        timeout_seconds: 300,
        last_runs: null,
      },
    ]);
    expect(sc(second)['has_more']).toBe(false);
  });
});

describe('metrics on reference shapes', () => {
  it('get_environment_metrics asks for the visible metrics and summarises string and number values', async () => {
    serve(
      agent,
      ROUTE.appBySlug(),
      ROUTE.environments(),
      ROUTE.metricMetadata(),
      ROUTE.metrics('metric=cpu&metric=http_requests&time_window_preset=6h'),
    );
    const r = await call('get_environment_metrics', { app: 'harbour', environment: 'live', window: '6h' });
    const out = sc(r);
    expect(out['available']).toEqual(['cpu', 'http_requests']);
    expect(out['metrics']).toEqual([
      {
        name: 'cpu',
        title: 'CPU',
        unit: '%',
        points: 4,
        min: 12.5,
        p50: 14,
        p90: 61.25,
        max: 61.25,
        latest: 58,
        latest_at: '2026-12-02T08:03:00.000Z',
        series: null,
      },
      {
        name: 'http_requests',
        title: 'Requests',
        unit: 'requests/min',
        points: 4,
        min: 80,
        p50: 95,
        p90: 130,
        max: 130,
        latest: 95,
        latest_at: '2026-12-02T08:03:00.000Z',
        series: null,
      },
    ]);
    expect(out['from']).toBe('2026-12-02T08:00:00.000Z');
    expect(out['interval_seconds']).toBe(60);
  });
});

describe('activities on reference shapes', () => {
  it('list_activities names the environment of an activity by its slug, and who did it', async () => {
    serve(agent, ROUTE.appBySlug(), ROUTE.environments(), ROUTE.activities());
    const r = await call('list_activities', { app: 'harbour' });
    expect(rows(r, 'activities')).toEqual([
      {
        uuid: 'qfcx3v7gszc7xbzdoqbwfpmv5m',
        at: '2026-12-01T16:42:07.318204Z',
        type: 'environment_variable_update',
        user: 'Jo Harbour',
        environment: 'live',
        description: 'Changed UPSTREAM_TIMEOUT_SECONDS',
      },
      {
        uuid: 'w4pvzrdp2ncc7mzcgvlmcxq3xu',
        at: '2026-11-30T09:15:00Z',
        type: 'deployment',
        user: 'Jo Harbour',
        environment: null,
        description: 'Deployed live',
      },
    ]);
    expect(sc(r)['has_more']).toBe(false);
  });
});

describe('coverage', () => {
  // Runs last (tests in a file run in order): a new read tool without a fixture-backed test fails here.
  it('every read tool answered a fixture-backed call above', () => {
    const readTools = allTools.filter((t) => t.annotations.readOnlyHint === true).map((t) => t.name);
    expect(readTools.length).toBeGreaterThanOrEqual(15);
    expect(readTools.filter((name) => !answered.has(name))).toEqual([]);
  });
});
