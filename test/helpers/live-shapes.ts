import { readdirSync, readFileSync } from 'node:fs';
import { MockAgent } from 'undici';

// Contract fixtures: JSON written for this project in the exact shape of responses captured from the live API
// (a deployment and an environment list saved in the public repository mebdivio/cdtest1) and of the reference's
// samples. See test/fixtures/live-shapes/README.md. Tests serve them through undici's MockAgent.

export type Json = Record<string, unknown>;

/** The API origin the fixtures' `next`/`previous` links point at (a reserved test domain: never resolvable). */
export const FIXTURE_BASE = 'https://api.divio.test';

const DIR = new URL('../fixtures/live-shapes/', import.meta.url);

export function fixtureNames(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A fresh copy of one fixture (tests may change it without affecting others). */
export function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Json;
}

export function resultsOf(name: string): Json[] {
  return fixture(name)['results'] as Json[];
}

/** A one-page list envelope around fixture objects, as a filtered list call answers. */
export function pageOf(results: Json[]): Json {
  return { count: results.length, next: null, previous: null, results };
}

/** The IDs the fixtures use, named. */
export const ID = {
  orgHarbour: 'jk22yabt4nd6bp6hlhdpnx5hte',
  orgBeacon: 'xlxesrrbvngufjrg3uli3qwe34',
  user: 'rclep5ixbrbnncidawibrjorai',
  app: '7uca6eur6vhzteoldmbncn7eqy',
  otherApp: '4hh642kd3jemberq6hi53z3gfy',
  envTest: 'guiwvfxg4ne2dcessnqirxizwy',
  envLive: '72ym7aesg5e3tfgqmz2eakcowa',
  depDone: 'syopikb4vbg2nkjz5ycqkbn4sq',
  depFailed: 'ef57pgb47rcpnls222wbjr24ji',
  depRunning: 'ies2rf6zivhp5ergxprmqah4ka',
  depTest: 'xnsgxxgwmjdnnmft67n7h7cpmu',
  primaryDomain: 'kidp3i6mzbba3bvdsaefxh7kqi',
  backup: '5hlicqgvjnattkblqa7s3pa7fu',
  backupPartial: 'wxdk7ux54fhfrar2wjjpoeqygq',
  sibDb: '2c2fwxvhlbb3fguvbypq6pbj74',
  sibStorage: '2rxqodk76farng5gcns3ahlb3i',
  sibPartial: 'wne4qkyu6fdr3berqzulcod43e',
} as const;

/** The released commit in the live environment's `pending_commits_lookup` range. */
export const LIVE_RELEASED_COMMIT = 'ea6bf7d49249a7b2bba72ac0472eacd20533d021';

/** API paths the tools call, with the fixture each one answers with. */
export const ROUTE = {
  organisations: (pageSize: number): [string, Json] => [
    `/iam/v3/organisations/?page_size=${pageSize}`,
    fixture('organisations'),
  ],
  me: (): [string, Json] => ['/iam/v3/me/', fixture('me')],
  applications: (pageSize: number): [string, Json] => [
    `/apps/v3/applications/?page_size=${pageSize}`,
    fixture('applications'),
  ],
  appBySlug: (): [string, Json] => [
    '/apps/v3/applications/?slug=harbour',
    pageOf(resultsOf('applications').filter((a) => a['slug'] === 'harbour')),
  ],
  application: (): [string, Json] => [`/apps/v3/applications/${ID.app}/`, fixture('application')],
  environments: (): [string, Json] => [
    `/apps/v3/environments/?application=${ID.app}&page_size=100`,
    fixture('environments'),
  ],
  envLive: (body: Json = fixture('environment-live')): [string, Json] => [
    `/apps/v3/environments/${ID.envLive}/`,
    body,
  ],
  envTest: (): [string, Json] => [`/apps/v3/environments/${ID.envTest}/`, fixture('environment-test')],
  serviceInstances: (pageSize: number): [string, Json] => [
    `/apps/v3/service-instances/?environment=${ID.envLive}&page_size=${pageSize}`,
    fixture('service-instances'),
  ],
  deployments: (): [string, Json] => [
    `/apps/v3/deployments/?application=${ID.app}&page_size=20`,
    fixture('deployments'),
  ],
  /** The `count` reads list_deployments makes for its counts: all, then `is_success` true and false. */
  deploymentCounts: (): [string, Json][] =>
    ([undefined, true, false] as const).map((ok) => [
      `/apps/v3/deployments/?application=${ID.app}${ok === undefined ? '' : `&is_success=${ok}`}&page_size=1`,
      pageOf(resultsOf('deployments').filter((d) => ok === undefined || d['success'] === ok)),
    ]),
  deployment: (id: string, name: string): [string, Json] => [`/apps/v3/deployments/${id}/`, fixture(name)],
  // no trailing slash: the path Divio's CLI sends (`DeployLogRequest`)
  deploymentLogs: (id: string, name: string): [string, Json] => [
    `/apps/v3/deployments/${id}/logs`,
    fixture(name),
  ],
  backups: (pageSize: number): [string, Json] => [
    `/apps/v3/backups/?environment=${ID.envLive}&page_size=${pageSize}`,
    fixture('backups'),
  ],
  backup: (): [string, Json] => [`/apps/v3/backups/${ID.backup}/`, fixture('backup')],
  serviceInstanceBackups: (ids: string[]): [string, Json] => [
    `/apps/v3/service-instance-backups/?${[...ids.map((id) => `uuid=${id}`), 'page_size=100'].join('&')}`,
    pageOf(resultsOf('service-instance-backups').filter((s) => ids.includes(String(s['uuid'])))),
  ],
  environmentVariables: (): [string, Json] => [
    `/apps/v3/environment-variables/?environment=${ID.envLive}&page_size=20`,
    fixture('environment-variables'),
  ],
  domains: (): [string, Json] => [`/apps/v3/domains/?application=${ID.app}&page_size=20`, fixture('domains')],
  cronjobs: (): [string, Json] => [
    `/apps/v3/cronjobs/?environment=${ID.envLive}&limit=2`,
    fixture('cronjobs'),
  ],
  cronjobsPage2: (): [string, Json] => [
    `/apps/v3/cronjobs/?environment=${ID.envLive}&limit=2&offset=2`,
    fixture('cronjobs-page2'),
  ],
  envLogs: (query: string): [string, Json] => [
    `/apps/v3/environments/${ID.envLive}/logs/?${query}`,
    fixture('environment-logs'),
  ],
  activities: (): [string, Json] => [
    `/apps/v3/application-activities/?application=${ID.app}&page_size=20`,
    fixture('application-activities'),
  ],
  metricMetadata: (): [string, Json] => [
    `/apps/v3/environment-metric-metadata/?environment=${ID.envLive}&page_size=100`,
    fixture('environment-metric-metadata'),
  ],
  metrics: (query: string): [string, Json] => [
    `/apps/v3/environments/${ID.envLive}/metrics/?${query}`,
    fixture('environment-metrics'),
  ],
  envLogsOlder: (): [string, Json] => [
    `/apps/v3/environments/${ID.envLive}/logs/?limit=5&search_before=WzE3NjQ1ODI0MDAxMDIsIjBhN2UiXQ`,
    fixture('environment-logs-older'),
  ],
};

/** A MockAgent that refuses every request it was not told about. */
export function fixtureAgent(): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return agent;
}

/**
 * Answer each GET path with its fixture, as often as asked. `assertNoPendingInterceptors()` then fails for a
 * route that was never requested, and an unlisted request fails at once (MockNotMatchedError).
 */
export function serve(agent: MockAgent, ...routes: [string, Json][]): void {
  const pool = agent.get(FIXTURE_BASE);
  for (const [path, body] of routes) {
    pool
      .intercept({ path, method: 'GET' })
      .reply(200, body, { headers: { 'content-type': 'application/json' } })
      .persist();
  }
}
