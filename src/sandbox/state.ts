import { createHmac } from 'node:crypto';
import { type ActivityRecord, recordActivity, TEAM } from './activities.js';
import { buildFailureLog, buildReuseLog, buildSuccessLog, type TimedLine } from './buildlog.js';
import { generateEnvironmentLogs, type LogEntry } from './logs.js';
import { iso, prng, uuidFromName } from './util.js';

export interface SandboxTimings {
  deployMs: number;
  backupMs: number;
  restoreMs: number;
  downloadMs: number;
}

export const DEFAULT_TIMINGS: SandboxTimings = {
  deployMs: 4000,
  backupMs: 3000,
  restoreMs: 3000,
  downloadMs: 1500,
};

export type DeployOutcome = 'success' | 'failure';
/** `null`: the backup completes without a result, as the Divio CLI's own tests show `success: null` can. */
export type BackupOutcome = 'SUCCESS' | 'PARTIAL' | 'FAILURE' | null;
export type RestoreOutcome = 'SUCCESS' | 'PARTIAL' | 'FAILURE';
/**
 * The order of the backup, restore and download lists. No source establishes it (only deployments'
 * newest-first order has support, from the CLI's `results[0]`); newest first is the default because
 * Divio's deployments list is ordered that way and a model's default ordering is usually the same across
 * one API (inferred). `oldest-first` and `by-id` (no time order at all, as a queryset without an ordering
 * would page by primary key) let tests prove the server does not depend on it.
 */
export type ListOrder = 'newest-first' | 'oldest-first' | 'by-id';

export interface Organisation {
  uuid: string;
  name: string;
  created_at: string;
}

export interface User {
  uuid: string;
  email: string;
  first_name: string;
  last_name: string;
  username: string;
}

export interface Region {
  uuid: string;
  name: string;
  short_name: string;
  is_public: boolean;
  is_default: boolean;
}

export interface Service {
  uuid: string;
  name: string;
  type: 'DATABASE' | 'STORAGE';
  description: string;
  is_backupable: boolean;
  is_self_manageable: boolean;
  identifier: string;
  region: string;
}

export interface Application {
  uuid: string;
  slug: string;
  name: string;
  organisation: string;
  region: string;
  repository: string | null;
  created_at: string;
}

export interface Environment {
  uuid: string;
  application: string;
  slug: string;
  branch: string;
  is_production_grade: boolean;
  alternative_dockerfile: string | null;
  created_at: string;
  /** When StopEnvironment stopped it; a deployment that succeeds later starts it again. */
  stoppedMs: number | null;
}

/** A commit of an application's repository, as GetRepositoryCommits lists it (the shape is inferred). */
export interface CommitRecord {
  sha: string;
  message: string;
  author_name: string;
  author_email: string;
  dateMs: number;
}

export interface ServiceInstance {
  uuid: string;
  environment: string;
  region: string;
  service: string;
  // inferred: 'READY' and 'NEW' are our values; no source shows the real service_status strings
  service_status: 'READY' | 'NEW';
  prefix: string;
  type: 'DATABASE' | 'STORAGE';
  last_status_update: string;
  last_config_update: string;
}

/** Deployments are stored with their timeline; the visible status is computed from the clock on read. */
export interface DeploymentRecord {
  uuid: string;
  environment: string;
  region: string;
  org_membership: string;
  build_mode: 'AUTO' | 'ADOPT' | 'FORCE';
  copy_from: string | null;
  /** The earlier deployment whose image this one reuses (`adopt_deployment`), else null. */
  adopted: string | null;
  git_commit: string;
  startedMs: number;
  /** nominal full duration (queued → building → deploying) */
  durationMs: number;
  outcome: DeployOutcome;
  environmentVariables: Record<string, string>;
  log: TimedLine[];
}

export interface BackupRecord {
  uuid: string;
  environment: string;
  org_membership: string;
  createdMs: number;
  durationMs: number;
  outcome: BackupOutcome;
  trigger: string;
  notes: string;
  scheduled_for_deletion_at: string | null;
  serviceInstanceBackups: string[];
}

/** A failure planned for the operations of one environment, with the error text each failed service reports. */
export interface PlannedOutcome<O> {
  outcome: O;
  /** error text for a failed service; the default names a plausible cause per service type */
  message?: string | undefined;
}

export interface ServiceInstanceBackupRecord {
  uuid: string;
  backup: string;
  service_instance: string;
  service: string;
  service_type: string;
  service_prefix: string;
  size: number;
  /** errors reported when the backup ends; empty means success */
  errors: string[];
}

export interface BackupRestoreRecord {
  uuid: string;
  environment: string;
  backup: string;
  org_membership: string;
  createdMs: number;
  durationMs: number;
  notes: string;
  outcome: RestoreOutcome;
  serviceInstanceBackupRestores: string[];
}

export interface ServiceInstanceBackupRestoreRecord {
  uuid: string;
  backup_restore: string;
  service_instance_backup: string;
  service_instance: string;
  /** errors reported when the restore ends; empty means this service was restored */
  errors: string[];
}

export interface BackupDownloadRecord {
  uuid: string;
  backup: string;
  author: string;
  trigger: string;
  createdMs: number;
  serviceInstanceBackups: string[];
}

export interface BackupDownloadServiceInstanceRecord {
  uuid: string;
  backup_download: string;
  service_instance_backup: string;
  createdMs: number;
  durationMs: number;
  /** errors reported when the download ends (then there is no URL); empty means success */
  errors: string[];
}

export interface EnvironmentVariable {
  uuid: string;
  name: string;
  environment: string;
  value: string;
  order: number;
  is_sensitive: boolean;
  is_read_only: boolean;
  is_pattern_replacement_active: boolean;
  date_created: string;
  date_modified: string;
}

export interface Domain {
  uuid: string;
  name: string;
  environment: string;
  is_primary: boolean;
  is_redirect_to_primary: boolean;
  is_managed_by_divio: boolean;
  is_tls_enabled: boolean;
  domain_config: Record<string, unknown>;
  created_at: string;
}

export interface Cronjob {
  uuid: string;
  command: string;
  frequency: 'DAILY' | 'HOURLY' | 'EVERY10MIN';
  time: string;
  environment: string;
  custom_timeout: number | null;
}

export const APP_SLUGS = ['shop', 'blog', 'api-gateway', 'intranet', 'marketing-site'] as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** In-memory store. Tests may read it directly; the HTTP layer reads and writes it. */
export class SandboxState {
  readonly startedAt: number;
  readonly organisations = new Map<string, Organisation>();
  readonly user: User;
  readonly regions = new Map<string, Region>();
  readonly services = new Map<string, Service>();
  readonly applications = new Map<string, Application>();
  readonly environments = new Map<string, Environment>();
  readonly serviceInstances = new Map<string, ServiceInstance>();
  readonly deployments = new Map<string, DeploymentRecord>();
  readonly backups = new Map<string, BackupRecord>();
  readonly serviceInstanceBackups = new Map<string, ServiceInstanceBackupRecord>();
  readonly backupRestores = new Map<string, BackupRestoreRecord>();
  readonly serviceInstanceBackupRestores = new Map<string, ServiceInstanceBackupRestoreRecord>();
  readonly backupDownloads = new Map<string, BackupDownloadRecord>();
  readonly backupDownloadServiceInstances = new Map<string, BackupDownloadServiceInstanceRecord>();
  readonly environmentVariables = new Map<string, EnvironmentVariable>();
  readonly domains = new Map<string, Domain>();
  readonly cronjobs = new Map<string, Cronjob>();
  /** ListApplicationActivities: what the seeded team and the token's user did (see activities.ts) */
  readonly activities: ActivityRecord[] = [];
  /** `<repository>:<branch>` -> the branch's commits, oldest first (a linear history per branch). */
  readonly branches = new Map<string, CommitRecord[]>();
  readonly deployOutcomes = new Map<string, DeployOutcome>();
  readonly backupOutcomes = new Map<string, PlannedOutcome<BackupOutcome>>();
  readonly restoreOutcomes = new Map<string, PlannedOutcome<RestoreOutcome>>();
  /** environment UUID -> the error every download of its backups ends with */
  readonly downloadFailures = new Map<string, string>();
  /** order of the backup, restore and download lists (deployments are always newest first) */
  listOrder: ListOrder = 'newest-first';
  /** largest page a list answers with, whatever page_size asks (undefined: the usual maximum) */
  maxPageSize: number | undefined;
  /** whether environment-variable answers carry sensitive values ('returned') or null ('masked'); see envVarView */
  sensitiveValues: 'returned' | 'masked' = 'returned';
  /** query filters the list endpoints ignore, as django-filter ignores parameters it does not declare */
  readonly ignoredFilters = new Set<string>();
  private readonly logCache = new Map<string, LogEntry[]>();
  private counter = 0;
  /** set by the server once it listens; used to build download URLs */
  baseUrl = '';
  readonly storageSecret = 'sandbox-storage-signing-key';

  constructor(
    readonly now: () => number,
    readonly timings: SandboxTimings,
  ) {
    this.startedAt = now();
    this.user = {
      uuid: uuidFromName('user:sandbox'),
      email: 'dev@acme.example',
      first_name: 'Sandy',
      last_name: 'Box',
      username: 'sandy',
    };
    seed(this);
  }

  /** Deterministic id for objects created at runtime (same sequence in every sandbox). */
  newUuid(kind: string): string {
    this.counter += 1;
    return uuidFromName(`${kind}:runtime:${this.counter}`);
  }

  // ---- lookups -------------------------------------------------------------------------------

  applicationBySlug(slug: string): Application | undefined {
    for (const a of this.applications.values()) if (a.slug === slug) return a;
    return undefined;
  }

  environmentBySlug(appSlug: string, envSlug: string): Environment | undefined {
    const app = this.applicationBySlug(appSlug);
    if (!app) return undefined;
    for (const e of this.environments.values())
      if (e.application === app.uuid && e.slug === envSlug) return e;
    return undefined;
  }

  /** Environment logs (generated lazily, deterministically, once per environment). Sorted oldest first. */
  logsFor(environmentUuid: string): LogEntry[] {
    let logs = this.logCache.get(environmentUuid);
    if (!logs) {
      const env = this.environments.get(environmentUuid);
      const app = env ? this.applications.get(env.application) : undefined;
      if (!env || !app) return [];
      const cronjobs = [...this.cronjobs.values()].filter((c) => c.environment === env.uuid);
      logs = generateEnvironmentLogs({ app: app.slug, env: env.slug, anchorMs: this.startedAt, cronjobs });
      this.logCache.set(environmentUuid, logs);
    }
    return logs;
  }

  // ---- deployments ---------------------------------------------------------------------------

  deploymentEndMs(d: DeploymentRecord): number {
    return d.startedMs + (d.outcome === 'failure' ? Math.round(d.durationMs * 0.6) : d.durationMs);
  }

  deploymentsOf(environmentUuid: string): DeploymentRecord[] {
    return [...this.deployments.values()]
      .filter((d) => d.environment === environmentUuid)
      .sort((a, b) => b.startedMs - a.startedMs);
  }

  /**
   * A new deployment. It builds the head of the environment's branch, or reuses the image of `adopt` (an
   * earlier deployment) or of what `copyFrom` (another environment) has released; build mode ADOPT reuses the
   * environment's own released image. Reusing an image builds nothing, so the environment's planned build
   * failure does not apply to it (inferred: the API reference only names the fields).
   */
  createDeployment(
    env: Environment,
    buildMode: DeploymentRecord['build_mode'],
    copyFrom: string | null,
    adopt: DeploymentRecord | null = null,
  ) {
    const app = this.applications.get(env.application);
    const source = adopt ?? (copyFrom ? this.releasedOf(copyFrom) : null);
    const reused = source ?? (buildMode === 'ADOPT' ? this.releasedOf(env.uuid) : null);
    const planned = this.deployOutcomes.get(env.uuid);
    const outcome = planned ?? (reused ? 'success' : defaultOutcome(app?.slug ?? '', env.slug));
    const uuid = this.newUuid('deployment');
    const rec = makeDeployment(this, {
      uuid,
      env,
      startedMs: this.now(),
      durationMs: this.timings.deployMs,
      outcome,
      buildMode,
      copyFrom,
      adopted: adopt?.uuid ?? null,
      commit: reused?.git_commit ?? this.headOf(env).sha,
      reusedFrom: reused?.uuid ?? null,
    });
    this.deployments.set(uuid, rec);
    return rec;
  }

  /** The deployment an environment serves: its newest successful one since it was last stopped. */
  releasedOf(environmentUuid: string): DeploymentRecord | undefined {
    const env = this.environments.get(environmentUuid);
    let released: DeploymentRecord | undefined;
    for (const d of this.deploymentsOf(environmentUuid)) {
      const end = this.deploymentEndMs(d);
      if (d.outcome !== 'success' || end > this.now()) continue;
      if (env?.stoppedMs != null && end <= env.stoppedMs) continue;
      if (!released || end > this.deploymentEndMs(released)) released = d;
    }
    return released;
  }

  // ---- repositories --------------------------------------------------------------------------

  /** The commits of an environment's branch, oldest first; a branch nothing is known of gets one commit. */
  branchOf(env: Environment): CommitRecord[] {
    const app = this.applications.get(env.application);
    const key = `${app?.repository ?? env.application}:${env.branch}`;
    let commits = this.branches.get(key);
    if (!commits) {
      commits = [
        newCommit(`${key}:initial`, 'Initial commit', env.created_at ? Date.parse(env.created_at) : 0),
      ];
      this.branches.set(key, commits);
    }
    return commits;
  }

  headOf(env: Environment): CommitRecord {
    const commits = this.branchOf(env);
    return commits[commits.length - 1] as CommitRecord;
  }

  /**
   * The commits of `<from>..<branch>` on a repository, newest first, as `git log` lists a range
   * (https://git-scm.com/docs/gitrevisions): those after `from` on the branch. A `from` that is not on the branch
   * (a release copied from another environment) counts the branch's commits made after it.
   */
  commitsInRange(repository: string, from: string, branch: string): CommitRecord[] | undefined {
    const commits = this.branches.get(`${repository}:${branch}`);
    if (!commits) return undefined;
    const at = commits.findIndex((c) => c.sha === from);
    const fromDate = this.commitDate(repository, from);
    const after =
      at >= 0 ? commits.slice(at + 1) : commits.filter((c) => fromDate === undefined || c.dateMs > fromDate);
    return after.reverse();
  }

  private commitDate(repository: string, sha: string): number | undefined {
    for (const [key, commits] of this.branches)
      if (key.startsWith(`${repository}:`)) for (const c of commits) if (c.sha === sha) return c.dateMs;
    return undefined;
  }

  /** Pending commits of an environment: those on its branch after the commit it serves (all when none). */
  pendingCommitsOf(env: Environment): CommitRecord[] {
    const app = this.applications.get(env.application);
    const released = this.releasedOf(env.uuid) ?? this.lastSucceededOf(env.uuid);
    const branch = this.branchOf(env);
    if (!released) return [...branch].reverse();
    return this.commitsInRange(app?.repository ?? env.application, released.git_commit, env.branch) ?? [];
  }

  /** The last deployment that succeeded, whether or not the environment was stopped since. */
  lastSucceededOf(environmentUuid: string): DeploymentRecord | undefined {
    return this.deploymentsOf(environmentUuid).find(
      (d) => d.outcome === 'success' && this.deploymentEndMs(d) <= this.now(),
    );
  }

  // ---- backups -------------------------------------------------------------------------------

  createBackup(input: {
    env: Environment;
    services: ServiceInstance[];
    notes: string;
    trigger: string;
    scheduledForDeletionAt: string | null;
  }): BackupRecord {
    const uuid = this.newUuid('backup');
    const planned = this.backupOutcomes.get(input.env.uuid);
    const wanted = planned ? planned.outcome : 'SUCCESS';
    // PARTIAL fails the last service; with fewer than two services none succeeds, and that is a FAILURE.
    const outcome: BackupOutcome = wanted === 'PARTIAL' && input.services.length < 2 ? 'FAILURE' : wanted;
    const rec: BackupRecord = {
      uuid,
      environment: input.env.uuid,
      org_membership: uuidFromName('org-membership:sandbox'),
      createdMs: this.now(),
      durationMs: this.timings.backupMs,
      outcome,
      trigger: input.trigger,
      notes: input.notes,
      scheduled_for_deletion_at: input.scheduledForDeletionAt,
      serviceInstanceBackups: [],
    };
    const rand = prng(uuid);
    input.services.forEach((si, i) => {
      const failed = outcome === 'FAILURE' || (outcome === 'PARTIAL' && i === input.services.length - 1);
      const sib = this.newUuid('service-instance-backup');
      this.serviceInstanceBackups.set(sib, {
        uuid: sib,
        backup: uuid,
        service_instance: si.uuid,
        service: si.service,
        service_type: si.type,
        service_prefix: si.prefix,
        size: failed ? 0 : sizeFor(si.type, rand),
        errors: failed ? [planned?.message ?? backupError(si.type)] : [],
      });
      rec.serviceInstanceBackups.push(sib);
    });
    this.backups.set(uuid, rec);
    return rec;
  }

  /** The planned restore outcome of an environment; PARTIAL with fewer than two services is a FAILURE. */
  restoreOutcome(
    envUuid: string,
    services: number,
  ): { outcome: RestoreOutcome; message?: string | undefined } {
    const planned = this.restoreOutcomes.get(envUuid) ?? { outcome: 'SUCCESS' as const };
    if (planned.outcome === 'PARTIAL' && services < 2) return { ...planned, outcome: 'FAILURE' };
    return planned;
  }

  /** Items of a backup, restore or download list in the configured order (input: newest first). */
  inListOrder<T extends { uuid: string }>(newestFirst: T[]): T[] {
    if (this.listOrder === 'oldest-first') return newestFirst.reverse();
    if (this.listOrder === 'by-id') return newestFirst.sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
    return newestFirst;
  }

  backupState(b: BackupRecord): 'WAITING' | 'WORKING' | 'COMPLETED' {
    const elapsed = this.now() - b.createdMs;
    if (elapsed >= b.durationMs) return 'COMPLETED';
    if (elapsed >= b.durationMs * 0.15) return 'WORKING';
    return 'WAITING';
  }

  // ---- downloads -----------------------------------------------------------------------------

  signStorage(uuid: string, expires: number): string {
    return createHmac('sha256', this.storageSecret).update(`${uuid}:${expires}`).digest('hex');
  }

  downloadUrlFor(bdsi: BackupDownloadServiceInstanceRecord): string {
    const expires = Math.floor((bdsi.createdMs + bdsi.durationMs) / 1000) + 3600;
    return `${this.baseUrl}/_storage/${bdsi.uuid}?expires=${expires}&signature=${this.signStorage(bdsi.uuid, expires)}`;
  }
}

export function defaultOutcome(appSlug: string, envSlug: string): DeployOutcome {
  // shop/live tracks a branch with a broken requirement pin: every build fails until it is fixed
  return appSlug === 'shop' && envSlug === 'live' ? 'failure' : 'success';
}

function sizeFor(type: string, rand: () => number): number {
  const base = type === 'DATABASE' ? 40 * 1024 * 1024 : 900 * 1024 * 1024;
  return Math.round(base * (0.2 + rand() * 2.5));
}

export function restoreError(type: string): string {
  return type === 'DATABASE'
    ? 'pg_restore: error: could not execute query: ERROR: role "app" does not exist'
    : 'Object storage restore failed: SlowDown: please reduce your request rate';
}

function backupError(type: string): string {
  return type === 'DATABASE'
    ? 'pg_dump: error: connection to server failed: FATAL: remaining connection slots are reserved'
    : 'Object storage sync failed: AccessDenied when listing bucket objects';
}

function commitHash(seedText: string): string {
  const rand = prng(`commit:${seedText}`);
  let s = '';
  for (let i = 0; i < 40; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

const AUTHORS: [string, string][] = [
  ['Maria Keller', 'maria@acme.example'],
  ['Tom Okafor', 'tom@acme.example'],
  ['Lena Brandt', 'lena@acme.example'],
];

const MESSAGES = [
  'Fix pagination on the product list',
  'Update Django to 4.2.16',
  'Add a retry to the payment webhook',
  'Tighten the cache headers of static files',
  'Translate the checkout page',
  'Log slow database queries',
  'Remove the unused newsletter app',
  'Bump celery to 5.4.0',
];

function newCommit(seedText: string, message: string, dateMs: number): CommitRecord {
  const rand = prng(`author:${seedText}`);
  const [name, email] = AUTHORS[Math.floor(rand() * AUTHORS.length)] as [string, string];
  return { sha: commitHash(seedText), message, author_name: name, author_email: email, dateMs };
}

function makeDeployment(
  state: SandboxState,
  o: {
    uuid: string;
    env: Environment;
    startedMs: number;
    durationMs: number;
    outcome: DeployOutcome;
    buildMode: DeploymentRecord['build_mode'];
    copyFrom: string | null;
    adopted: string | null;
    commit: string;
    /** the deployment whose image this one reuses, if any */
    reusedFrom?: string | null;
  },
): DeploymentRecord {
  const app = state.applications.get(o.env.application);
  const slug = app?.slug ?? 'app';
  const commit = o.commit;
  const vars: Record<string, string> = {};
  for (const v of state.environmentVariables.values())
    if (v.environment === o.env.uuid) vars[v.name] = v.value;
  const logParams = { app: slug, env: o.env.slug, branch: o.env.branch, commit, buildMode: o.buildMode };
  return {
    uuid: o.uuid,
    environment: o.env.uuid,
    region: app?.region ?? '',
    org_membership: uuidFromName('org-membership:sandbox'),
    build_mode: o.buildMode,
    copy_from: o.copyFrom,
    adopted: o.adopted,
    git_commit: commit,
    startedMs: o.startedMs,
    durationMs: o.durationMs,
    outcome: o.outcome,
    environmentVariables: vars,
    log:
      o.outcome === 'failure'
        ? buildFailureLog(logParams)
        : o.reusedFrom
          ? buildReuseLog({ ...logParams, source: o.reusedFrom })
          : buildSuccessLog(logParams),
  };
}

// ---- seed --------------------------------------------------------------------------------------

interface AppSeed {
  slug: (typeof APP_SLUGS)[number];
  name: string;
  org: 'acme' | 'globex';
  envs: string[];
}

const APPS: AppSeed[] = [
  { slug: 'shop', name: 'Shop', org: 'acme', envs: ['test', 'live'] },
  { slug: 'blog', name: 'Blog', org: 'acme', envs: ['test', 'live'] },
  { slug: 'api-gateway', name: 'API Gateway', org: 'acme', envs: ['test', 'staging', 'live'] },
  { slug: 'intranet', name: 'Intranet', org: 'globex', envs: ['test', 'live'] },
  { slug: 'marketing-site', name: 'Marketing Site', org: 'globex', envs: ['test', 'live'] },
];

function seed(s: SandboxState): void {
  const t0 = s.startedAt;
  for (const [key, name, age] of [
    ['acme', 'Acme Corp', 900],
    ['globex', 'Globex Labs', 400],
  ] as const) {
    const uuid = uuidFromName(`organisation:${key}`);
    s.organisations.set(uuid, { uuid, name, created_at: iso(t0 - age * DAY) });
  }
  for (const [key, name, short, isDefault] of [
    ['eu-central', 'Europe (Frankfurt)', 'eu-central', true],
    ['us-east', 'United States (Virginia)', 'us-east', false],
  ] as const) {
    const uuid = uuidFromName(`region:${key}`);
    s.regions.set(uuid, { uuid, name, short_name: short, is_public: true, is_default: isDefault });
  }
  const defaultRegion = uuidFromName('region:eu-central');
  for (const region of s.regions.values()) {
    for (const [type, name, identifier, description] of [
      ['DATABASE', 'PostgreSQL 15', 'postgres-15', 'Managed PostgreSQL database'],
      ['STORAGE', 'Object Storage', 's3-object-storage', 'S3-compatible object storage for media files'],
    ] as const) {
      const uuid = uuidFromName(`service:${region.short_name}:${identifier}`);
      s.services.set(uuid, {
        uuid,
        name,
        type,
        description,
        is_backupable: true,
        is_self_manageable: true,
        identifier,
        region: region.uuid,
      });
    }
  }

  let appIndex = 0;
  for (const a of APPS) {
    appIndex++;
    const appUuid = uuidFromName(`application:${a.slug}`);
    s.applications.set(appUuid, {
      uuid: appUuid,
      slug: a.slug,
      name: a.name,
      organisation: uuidFromName(`organisation:${a.org}`),
      region: defaultRegion,
      repository: uuidFromName(`repository:${a.slug}`),
      created_at: iso(t0 - (300 - appIndex * 20) * DAY),
    });
    for (const envSlug of a.envs) {
      const key = `${a.slug}/${envSlug}`;
      const envUuid = uuidFromName(`environment:${key}`);
      const env: Environment = {
        uuid: envUuid,
        application: appUuid,
        slug: envSlug,
        branch: envSlug === 'live' ? 'main' : envSlug === 'staging' ? 'staging' : 'develop',
        is_production_grade: envSlug === 'live',
        alternative_dockerfile: null,
        created_at: iso(t0 - (290 - appIndex * 20) * DAY),
        stoppedMs: null,
      };
      s.environments.set(envUuid, env);
      for (const type of ['DATABASE', 'STORAGE'] as const) {
        const siUuid = uuidFromName(`service-instance:${key}:${type}:DEFAULT`);
        const identifier = type === 'DATABASE' ? 'postgres-15' : 's3-object-storage';
        const notProvisioned = key === 'intranet/test' && type === 'STORAGE';
        s.serviceInstances.set(siUuid, {
          uuid: siUuid,
          environment: envUuid,
          region: defaultRegion,
          service: uuidFromName(`service:eu-central:${identifier}`),
          service_status: notProvisioned ? 'NEW' : 'READY',
          prefix: 'DEFAULT',
          type,
          last_status_update: iso(t0 - 30 * DAY),
          last_config_update: iso(t0 - 30 * DAY),
        });
      }
      seedEnvVars(s, a.slug, env);
      seedDomains(s, a.slug, env);
      seedCronjobs(s, a.slug, env);
      seedDeployments(s, a.slug, env);
      seedBackups(s, a.slug, env);
    }
  }
}

function seedEnvVars(s: SandboxState, app: string, env: Environment): void {
  const t0 = s.startedAt;
  const key = `${app}/${env.slug}`;
  const rand = prng(`envvars:${key}`);
  const secret = (n: number) => {
    let out = '';
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    for (let i = 0; i < n; i++) out += chars[Math.floor(rand() * chars.length)];
    return out;
  };
  const vars: [string, string, boolean][] = [
    ['DJANGO_SETTINGS_MODULE', 'settings', false],
    ['DEBUG', env.slug === 'live' ? 'False' : 'True', false],
    ['SECRET_KEY', `django-insecure-${secret(40)}`, true],
    ['ALLOWED_HOSTS', `${app}-${env.slug}.eu.aldryn.io`, false],
  ];
  if (app === 'shop') {
    vars.push([
      'STRIPE_API_KEY',
      env.slug === 'live' ? `sk_live_${secret(24)}` : `sk_test_${secret(24)}`,
      true,
    ]);
    vars.push(['PAYMENT_WEBHOOK_URL', `https://${app}.acme.example/payments/webhook/`, false]);
  }
  if (app === 'api-gateway') vars.push(['UPSTREAM_TIMEOUT_SECONDS', '30', false]);
  if (app === 'intranet') vars.push(['LDAP_BIND_PASSWORD', secret(18), true]);
  // api-gateway/live: the upstream timeout was changed yesterday (who changed what)
  const changed = key === 'api-gateway/live' ? 'UPSTREAM_TIMEOUT_SECONDS' : null;
  vars.forEach(([name, value, sensitive], order) => {
    const uuid = uuidFromName(`environment-variable:${key}:${name}`);
    const modifiedMs = name === changed ? t0 - 20 * HOUR : t0 - (10 + order) * DAY;
    if (name === changed)
      seedActivity(
        s,
        env,
        'environment_variable_update',
        `Changed ${name}`,
        { variable: uuid },
        1,
        modifiedMs,
      );
    s.environmentVariables.set(uuid, {
      uuid,
      name,
      environment: env.uuid,
      value,
      order,
      is_sensitive: sensitive,
      is_read_only: false,
      is_pattern_replacement_active: false,
      date_created: iso(t0 - 120 * DAY),
      date_modified: iso(modifiedMs),
    });
  });
}

function seedDomains(s: SandboxState, app: string, env: Environment): void {
  const key = `${app}/${env.slug}`;
  const names = [`${app}-${env.slug}.eu.aldryn.io`];
  if (env.slug === 'live') names.push(`www.${app}.acme.example`, `${app}.acme.example`);
  names.forEach((name, i) => {
    const uuid = uuidFromName(`domain:${key}:${name}`);
    s.domains.set(uuid, {
      uuid,
      name,
      environment: env.uuid,
      is_primary: env.slug === 'live' ? i === 1 : i === 0,
      is_redirect_to_primary: env.slug === 'live' && i !== 1,
      is_managed_by_divio: i === 0,
      is_tls_enabled: true,
      domain_config: {},
      created_at: iso(s.startedAt - (100 - i) * DAY),
    });
  });
}

function seedCronjobs(s: SandboxState, app: string, env: Environment): void {
  const key = `${app}/${env.slug}`;
  const jobs: [string, Cronjob['frequency'], string][] = [
    ['python manage.py clearsessions', 'DAILY', '03:30'],
    ['python manage.py send_queued_mail', 'EVERY10MIN', ''],
  ];
  if (app === 'shop') jobs.push(['python manage.py expire_carts', 'HOURLY', ':15']);
  for (const [command, frequency, time] of jobs) {
    const uuid = uuidFromName(`cronjob:${key}:${command}`);
    s.cronjobs.set(uuid, { uuid, command, frequency, time, environment: env.uuid, custom_timeout: null });
  }
}

/**
 * Past deployments of an environment, each of a commit pushed to its branch a little before, so the branch's
 * history and the deployments agree. shop/live's newest deployment failed (its commit is pending); blog/test has
 * three commits pushed since its last deployment.
 */
function seedDeployments(s: SandboxState, app: string, env: Environment): void {
  const key = `${app}/${env.slug}`;
  const rand = prng(`deployments:${key}`);
  const count = 3 + Math.floor(rand() * 4);
  const t0 = s.startedAt;
  const branch = s.branchOf(env);
  let message = Math.floor(rand() * MESSAGES.length);
  const push = (seedText: string, dateMs: number): string => {
    message = (message + 1) % MESSAGES.length;
    const c = newCommit(seedText, MESSAGES[message] as string, dateMs);
    branch.push(c);
    return c.sha;
  };
  let at = t0 - (20 + Math.floor(rand() * 10)) * DAY;
  const deploy = (
    uuid: string,
    startedMs: number,
    durationMs: number,
    outcome: DeployOutcome,
    slot: number,
  ) => {
    const commit = push(uuid, startedMs - Math.floor((10 + rand() * 110) * MINUTE));
    s.deployments.set(
      uuid,
      makeDeployment(s, {
        uuid,
        env,
        startedMs,
        durationMs,
        outcome,
        buildMode: 'AUTO',
        copyFrom: null,
        adopted: null,
        commit,
      }),
    );
    seedActivity(s, env, 'deployment', `Deployed ${env.slug}`, { deployment: uuid }, slot, startedMs);
  };
  for (let i = 0; i < count; i++) {
    at += Math.floor((2 + rand() * 4) * DAY);
    const startedMs = Math.min(at, t0 - 3 * HOUR - i * MINUTE);
    deploy(
      uuidFromName(`deployment:${key}:${i}`),
      startedMs,
      Math.floor((3 + rand() * 5) * MINUTE),
      'success',
      i,
    );
  }
  if (key === 'api-gateway/live') {
    // a release went live 40 minutes before start; the errors its new code raises begin right after (logs.ts)
    deploy(uuidFromName(`deployment:${key}:regression`), t0 - 45 * MINUTE, 5 * MINUTE, 'success', 1);
  }
  if (key === 'shop/live') {
    // the most recent deployment failed (broken requirement pin); the previous release keeps serving
    deploy(uuidFromName(`deployment:${key}:failed`), t0 - 2 * HOUR, 6 * MINUTE, 'failure', 0);
  }
  if (key === 'blog/test') {
    for (let i = 0; i < 3; i++) push(`pending:${key}:${i}`, t0 - (150 - i * 40) * MINUTE);
  }
}

/** A past activity of the seeded team, with an ID derived from what it is about. */
function seedActivity(
  s: SandboxState,
  env: Environment,
  type: Parameters<typeof recordActivity>[1]['type'],
  description: string,
  context: Record<string, string>,
  who: number,
  atMs: number,
): void {
  const about = Object.values(context)[0] ?? description;
  recordActivity(s, {
    env,
    type,
    description,
    context,
    user: TEAM[who % TEAM.length],
    atMs,
    uuid: uuidFromName(`application-activity:${type}:${about}`),
  });
}

function seedBackups(s: SandboxState, app: string, env: Environment): void {
  const key = `${app}/${env.slug}`;
  const rand = prng(`backups:${key}`);
  const t0 = s.startedAt;
  const sis = [...s.serviceInstances.values()].filter(
    (si) => si.environment === env.uuid && si.service_status === 'READY',
  );
  const allFail = key === 'intranet/live';
  const count = allFail ? 2 : 2 + Math.floor(rand() * 3);
  for (let i = 0; i < count; i++) {
    const uuid = uuidFromName(`backup:${key}:${i}`);
    const createdMs = t0 - (count - i) * DAY - Math.floor(rand() * 6 * HOUR);
    const outcome: BackupOutcome = allFail ? 'FAILURE' : 'SUCCESS';
    const rec: BackupRecord = {
      uuid,
      environment: env.uuid,
      org_membership: uuidFromName('org-membership:sandbox'),
      createdMs,
      durationMs: Math.floor((2 + rand() * 10) * MINUTE),
      outcome,
      // inferred: 'SCHEDULED' appears in no source (only MANUAL/PULL do); our value for automatic backups
      trigger: i % 2 === 0 ? 'SCHEDULED' : 'MANUAL',
      notes: i % 2 === 0 ? 'Scheduled backup' : 'Before release',
      scheduled_for_deletion_at: iso(createdMs + 30 * DAY),
      serviceInstanceBackups: [],
    };
    for (const si of sis) {
      const sib = uuidFromName(`service-instance-backup:${key}:${i}:${si.type}`);
      s.serviceInstanceBackups.set(sib, {
        uuid: sib,
        backup: uuid,
        service_instance: si.uuid,
        service: si.service,
        service_type: si.type,
        service_prefix: si.prefix,
        size: allFail ? 0 : sizeFor(si.type, rand),
        errors: allFail ? [backupError(si.type)] : [],
      });
      rec.serviceInstanceBackups.push(sib);
    }
    s.backups.set(uuid, rec);
    // scheduled backups are the platform's own doing; manual ones were someone's
    if (rec.trigger === 'MANUAL')
      seedActivity(s, env, 'backup', `Backed up ${env.slug}`, { backup: uuid }, i + 1, createdMs);
  }
}
