import { getActivity, listActivities, recordActivity } from './activities.js';
import { latestRun } from './cron.js';
import {
  BodyValidator,
  boolFilter,
  type Ctx,
  ok,
  paginate,
  paginateLimitOffset,
  type Result,
  uuidFilter,
  uuidListFilter,
} from './http.js';
import { environmentLogs, environmentLogsOccurrence } from './logquery.js';
import { cronFailingFrom } from './logs.js';
import { environmentMetrics, metricMetadata } from './metrics.js';
import {
  type BackupRecord,
  type Cronjob,
  type Environment,
  restoreError,
  type SandboxState,
} from './state.js';
import { HttpError, iso, nonFieldError, normaliseUuid, notFound, uuidFromName } from './util.js';
import {
  applicationView,
  backupDownloadView,
  backupRestoreView,
  backupView,
  bdsiView,
  cronjobView,
  deploymentLogText,
  deploymentPhase,
  deploymentView,
  domainView,
  environmentView,
  envVarView,
  serviceInstanceBackupView,
  serviceInstanceView,
  sibRestoreView,
} from './views.js';

export type Handler = (ctx: Ctx, id: string) => Result;

export interface Route {
  pattern: RegExp;
  auth: boolean;
  methods: Partial<Record<string, Handler>>;
  /** One of the three GETs Divio's CLI sends without a trailing slash (see `SlashMode` in index.ts). */
  cliSlashless: boolean;
}

// `DeployLogRequest`, the deployment environment-variables request and the backup-download-service-instance
// request of `divio_cli/api_requests.py` are the only paths the CLI sends without a trailing slash.
const CLI_SLASHLESS = new Set([
  '/apps/v3/deployments/{id}/logs/',
  '/apps/v3/deployments/{id}/environment-variables/',
  '/apps/v3/backup-download-service-instances/{id}/',
]);

const ID = '([^/.]+)';

/** Resolve a path id (base32 or hex, see util.ts) against a map: an invalid or unknown one is 404, as DRF's get_object_or_404. */
function get<T>(map: Map<string, T>, raw: string): T {
  const id = normaliseUuid(raw);
  const item = id ? map.get(id) : undefined;
  if (!item) throw notFound();
  return item;
}

/** Backups, restores and downloads in the sandbox's configured list order (see `ListOrder`). */
const inListOrder = <T extends { createdMs: number; uuid: string }>(s: SandboxState, items: Iterable<T>) =>
  s.inListOrder([...items].sort((a, b) => b.createdMs - a.createdMs));

function envsOfApp(s: SandboxState, app: string): Set<string> {
  return new Set([...s.environments.values()].filter((e) => e.application === app).map((e) => e.uuid));
}

// ---- applications, environments ----------------------------------------------------------------

const listApplications: Handler = (ctx) => {
  const s = ctx.state;
  const org = uuidFilter(ctx, 'organisation');
  const uuids = uuidListFilter(ctx, 'uuid');
  const slug = ctx.query.get('slug');
  const nameSearch = ctx.query.get('name_search')?.toLowerCase();
  const items = [...s.applications.values()].filter(
    (a) =>
      (!org || a.organisation === org) &&
      (uuids.length === 0 || uuids.includes(a.uuid)) &&
      (!slug || a.slug === slug) &&
      (!nameSearch || a.name.toLowerCase().includes(nameSearch) || a.slug.includes(nameSearch)),
  );
  const order = ctx.query.get('o');
  if (order === 'name' || order === '-name') items.sort((a, b) => a.name.localeCompare(b.name));
  if (order === '-name') items.reverse();
  return paginate(ctx, items, (a) => applicationView(s, a));
};

const listEnvironments: Handler = (ctx) => {
  const s = ctx.state;
  const app = uuidFilter(ctx, 'application');
  const slug = ctx.query.get('slug');
  const org = uuidFilter(ctx, 'organisation');
  const items = [...s.environments.values()].filter(
    (e) =>
      (!app || e.application === app) &&
      (!slug || e.slug === slug) &&
      (!org || s.applications.get(e.application)?.organisation === org),
  );
  return paginate(ctx, items, (e) => environmentView(s, e, false));
};

const patchEnvironment: Handler = (ctx, id) => {
  const env = get(ctx.state.environments, id);
  const v = new BodyValidator(ctx.body);
  const branch = v.string('branch', { maxLength: 255 });
  v.check();
  if (branch !== undefined) env.branch = branch;
  return ok(environmentView(ctx.state, env, true));
};

/**
 * StopEnvironment ("Stops the running environment instances."). Inferred: the path and method (POST
 * `environments/{id}/stop/`), the 202 with an empty body, the refusals and their wording, and how a stopped
 * environment shows: nothing released (`currently_released_deployment` and `deployed_url` null) until a
 * deployment succeeds again.
 */
const stopEnvironment: Handler = (ctx, id) => {
  const s = ctx.state;
  const env = get(s.environments, id);
  if (s.deploymentsOf(env.uuid).some((d) => !deploymentPhase(s, d).done))
    throw nonFieldError('A deployment is in progress for this environment.');
  if (!s.releasedOf(env.uuid)) throw nonFieldError('The environment is not running.');
  env.stoppedMs = s.now();
  return { status: 202 };
};

/**
 * GetRepositoryCommits: `lookup` is a git revision range (the API reference). Its response sample is `{}`, so
 * the `{commits: [{sha, message, author_name, author_email, date}]}` shape, newest first, is inferred, and so is
 * the 400 for a range that names no known branch.
 */
const repositoryCommits: Handler = (ctx, id) => {
  const s = ctx.state;
  const app = [...s.applications.values()].find((a) => a.repository === normaliseUuid(id));
  if (!app?.repository) throw notFound();
  const lookup = ctx.query.get('lookup') ?? '';
  if (lookup === '') throw new HttpError(400, { lookup: ['This field is required.'] });
  const m = /^([0-9a-f]{7,40})\.\.(\S+)$/.exec(lookup);
  const commits = m ? s.commitsInRange(app.repository, m[1] ?? '', m[2] ?? '') : undefined;
  if (!commits) throw new HttpError(400, { lookup: [`Unknown revision range "${lookup}".`] });
  return ok({
    commits: commits.map((c) => ({
      sha: c.sha,
      message: c.message,
      author_name: c.author_name,
      author_email: c.author_email,
      date: iso(c.dateMs),
    })),
  });
};

// ---- deployments -------------------------------------------------------------------------------

const listDeployments: Handler = (ctx) => {
  const s = ctx.state;
  const app = uuidFilter(ctx, 'application');
  const env = uuidFilter(ctx, 'environment');
  const isSuccess = boolFilter(ctx, 'is_success');
  // ignored: `organisation` and `task` are declared by the API reference (docs.divio.com/api/apps), but their semantics are not established
  const appEnvs = app ? envsOfApp(s, app) : undefined;
  const items = [...s.deployments.values()]
    .filter(
      (d) =>
        (!appEnvs || appEnvs.has(d.environment)) &&
        (!env || d.environment === env) &&
        (isSuccess === undefined || deploymentView(s, d).success === isSuccess),
    )
    .sort((a, b) => b.startedMs - a.startedMs);
  return paginate(ctx, items, (d) => deploymentView(s, d));
};

const createDeployment: Handler = (ctx) => {
  const s = ctx.state;
  const v = new BodyValidator(ctx.body);
  const envId = v.pk('environment', (u) => s.environments.has(u));
  const buildMode = v.choice('build_mode', ['AUTO', 'ADOPT', 'FORCE'] as const) ?? 'AUTO';
  // inferred: copy_from names an environment (GetDeployment echoes it; the API reference only says "string or
  // null <uuid>"), and only one of the same application that has released something can be copied
  const copyFrom =
    v.has('copy_from') && v.data['copy_from'] !== null
      ? v.pk('copy_from', (u) => s.environments.has(u))
      : null;
  // inferred: adopt_deployment names an earlier successful deployment of this environment (or of copy_from)
  const adoptId = v.has('adopt_deployment')
    ? v.pk('adopt_deployment', (u) => s.deployments.has(u))
    : undefined;
  const provisionServices = v.bool('provision_services') ?? true;
  const env = envId ? s.environments.get(envId) : undefined;
  const source = copyFrom ? s.environments.get(copyFrom) : undefined;
  if (env && source) {
    if (source.uuid === env.uuid) v.addError('copy_from', 'An environment cannot copy from itself.');
    else if (source.application !== env.application)
      v.addError('copy_from', 'The environment to copy from belongs to another application.');
    else if (!adoptId && !s.releasedOf(source.uuid))
      v.addError('copy_from', 'The environment to copy from has no successful deployment.');
  }
  const adopt = adoptId ? s.deployments.get(adoptId) : undefined;
  if (env && adopt) {
    const done = deploymentPhase(s, adopt).done;
    if (adopt.environment !== env.uuid && adopt.environment !== copyFrom)
      v.addError('adopt_deployment', 'The deployment belongs to another environment.');
    else if (!done || adopt.outcome !== 'success')
      v.addError('adopt_deployment', 'Only a successful deployment can be adopted.');
  }
  v.check();
  const target = env as Environment;
  const running = s.deploymentsOf(target.uuid).find((d) => !deploymentPhase(s, d).done);
  if (running) {
    // inferred: the API refuses a second concurrent deployment; the CLI attaches to the running one instead
    throw nonFieldError('A deployment is already in progress for this environment.');
  }
  // A deployment that succeeds starts a stopped environment again (see `releasedOf`).
  const d = s.createDeployment(target, buildMode, copyFrom ?? null, adopt ?? null);
  recordActivity(s, {
    env: target,
    type: 'deployment',
    description: `Deployed ${target.slug}`,
    context: { deployment: d.uuid },
  });
  return ok(
    {
      ...deploymentView(s, d),
      build_mode: d.build_mode,
      ...(adopt !== undefined ? { adopt_deployment: adopt.uuid } : {}),
      provision_services: provisionServices,
    },
    201,
  );
};

// ---- backups -----------------------------------------------------------------------------------

const listBackups: Handler = (ctx) => {
  const s = ctx.state;
  const env = uuidFilter(ctx, 'environment');
  const items = inListOrder(
    s,
    [...s.backups.values()].filter((b) => !env || b.environment === env),
  );
  return paginate(ctx, items, (b) => backupView(s, b));
};

const createBackup: Handler = (ctx) => {
  const s = ctx.state;
  const v = new BodyValidator(ctx.body);
  const envId = v.pk('environment', (u) => s.environments.has(u));
  const services = v.pkList('services', (u) => s.serviceInstances.has(u));
  const notes = v.string('notes', { maxLength: 255, allowBlank: true }) ?? '';
  const deletion = v.datetime('scheduled_for_deletion_at');
  // inferred: `trigger` is not in the API reference's CreateBackup request schema, so DRF ignores a sent value (the CLI sends one); MANUAL
  const trigger = 'MANUAL';
  // inferred: DRF allows empty lists by default; refusing one here is our guess at Divio's validation
  if (services && services.length === 0) v.addError('services', 'This list may not be empty.');
  if (envId && services) {
    for (const id of services) {
      const si = s.serviceInstances.get(id);
      // inferred: membership and provisioning checks and their wording are not in the API reference or Divio's CLI
      if (si && si.environment !== envId)
        v.addError('services', `Service instance ${id} does not belong to environment ${envId}.`);
      else if (si?.service_status === 'NEW')
        v.addError('services', `Service instance ${id} is not provisioned.`);
    }
  }
  v.check();
  const env = s.environments.get(envId ?? '') as Environment;
  const b = s.createBackup({
    env,
    services: (services ?? []).map((id) => s.serviceInstances.get(id)).filter((x) => x !== undefined),
    notes,
    trigger,
    scheduledForDeletionAt: deletion ?? null,
  });
  recordActivity(s, {
    env,
    type: 'backup',
    description: `Backed up ${env.slug}`,
    context: { backup: b.uuid },
  });
  return ok(backupView(s, b), 201);
};

const listSibs: Handler = (ctx) => {
  const s = ctx.state;
  const uuids = uuidListFilter(ctx, 'uuid');
  const items = s.inListOrder(
    [...s.serviceInstanceBackups.values()]
      .filter((x) => uuids.length === 0 || uuids.includes(x.uuid))
      .sort((a, b) => (s.backups.get(b.backup)?.createdMs ?? 0) - (s.backups.get(a.backup)?.createdMs ?? 0)),
  );
  return paginate(ctx, items, (x) => serviceInstanceBackupView(s, x));
};

function backupSucceeded(s: SandboxState, b: BackupRecord): boolean {
  // inferred: a backup that completed without a result (`success` null) cannot be restored either
  return s.backupState(b) === 'COMPLETED' && (b.outcome === 'SUCCESS' || b.outcome === 'PARTIAL');
}

const listRestores: Handler = (ctx) => {
  const s = ctx.state;
  const env = uuidFilter(ctx, 'environment');
  const items = inListOrder(
    s,
    [...s.backupRestores.values()].filter((r) => !env || r.environment === env),
  );
  return paginate(ctx, items, (r) => backupRestoreView(s, r));
};

const createRestore: Handler = (ctx) => {
  const s = ctx.state;
  const v = new BodyValidator(ctx.body);
  const backupId = v.pk('backup', (u) => s.backups.has(u));
  const notes = v.string('notes', { maxLength: 255, allowBlank: true }) ?? '';
  const raw = v.data['service_instance_restores'];
  const sibIds: string[] = [];
  if (raw === undefined) v.addError('service_instance_restores', 'This field is required.');
  else if (!Array.isArray(raw))
    v.addError('service_instance_restores', 'Expected a list of items but got type "str".');
  // inferred: DRF allows empty lists by default; refusing one here is our guess at Divio's validation
  else if (raw.length === 0) v.addError('service_instance_restores', 'This list may not be empty.');
  else {
    const itemErrors: Record<string, string[]>[] = [];
    let bad = false;
    for (const item of raw) {
      const id =
        item && typeof item === 'object'
          ? (item as Record<string, unknown>)['service_instance_backup']
          : undefined;
      const norm = typeof id === 'string' ? normaliseUuid(id) : null;
      if (id === undefined) {
        itemErrors.push({ service_instance_backup: ['This field is required.'] });
        bad = true;
      } else if (!norm || !s.serviceInstanceBackups.has(norm)) {
        itemErrors.push({ service_instance_backup: [`Invalid pk "${String(id)}" - object does not exist.`] });
        bad = true;
      } else {
        itemErrors.push({});
        sibIds.push(norm);
      }
    }
    if (bad) (v.errors as Record<string, unknown>)['service_instance_restores'] = itemErrors;
  }
  v.check();
  const backup = s.backups.get(backupId ?? '') as BackupRecord;
  // inferred: the belongs-to, "only successful backups" and failed-item checks (and wording) are our guesses
  for (const id of sibIds) {
    if (s.serviceInstanceBackups.get(id)?.backup !== backup.uuid)
      throw nonFieldError(`Service instance backup ${id} does not belong to backup ${backup.uuid}.`);
  }
  if (!backupSucceeded(s, backup)) throw nonFieldError('Only completed, successful backups can be restored.');
  for (const id of sibIds) {
    if ((s.serviceInstanceBackups.get(id)?.errors.length ?? 0) > 0)
      throw nonFieldError(`Service instance backup ${id} failed and cannot be restored.`);
  }
  const uuid = s.newUuid('backup-restore');
  const planned = s.restoreOutcome(backup.environment, sibIds.length);
  const restore = {
    uuid,
    environment: backup.environment,
    backup: backup.uuid,
    org_membership: uuidFromName('org-membership:sandbox'),
    createdMs: s.now(),
    durationMs: s.timings.restoreMs,
    notes,
    outcome: planned.outcome,
    serviceInstanceBackupRestores: [] as string[],
  };
  sibIds.forEach((id, i) => {
    const sibr = s.newUuid('service-instance-backup-restore');
    const sib = s.serviceInstanceBackups.get(id);
    // PARTIAL fails the last service, FAILURE every one (as the backup outcomes do)
    const failed =
      planned.outcome === 'FAILURE' || (planned.outcome === 'PARTIAL' && i === sibIds.length - 1);
    s.serviceInstanceBackupRestores.set(sibr, {
      uuid: sibr,
      backup_restore: uuid,
      service_instance_backup: id,
      service_instance: sib?.service_instance ?? '',
      errors: failed ? [planned.message ?? restoreError(sib?.service_type ?? 'DATABASE')] : [],
    });
    restore.serviceInstanceBackupRestores.push(sibr);
  });
  s.backupRestores.set(uuid, restore);
  const target = s.environments.get(backup.environment);
  if (target)
    recordActivity(s, {
      env: target,
      type: 'backup_restore',
      description: `Restored a backup onto ${target.slug}`,
      context: { backup: backup.uuid, backup_restore: uuid },
    });
  return ok(
    {
      ...backupRestoreView(s, restore),
      service_instance_restores: sibIds.map((id) => ({ service_instance_backup: id })),
    },
    201,
  );
};

const createDownload: Handler = (ctx) => {
  const s = ctx.state;
  const v = new BodyValidator(ctx.body);
  const backupId = v.pk('backup', (u) => s.backups.has(u));
  const trigger = v.choice('trigger', ['MANUAL', 'PULL'] as const, { required: true });
  const sibs = v.pkList('service_instance_backups', (u) => s.serviceInstanceBackups.has(u));
  // inferred: DRF allows empty lists by default; refusing one here is our guess at Divio's validation
  if (sibs && sibs.length === 0) v.addError('service_instance_backups', 'This list may not be empty.');
  v.check();
  const backup = s.backups.get(backupId ?? '') as BackupRecord;
  // inferred: the belongs-to and download-availability checks (and wording) are not in the API reference or Divio's CLI
  for (const id of sibs ?? []) {
    const sib = s.serviceInstanceBackups.get(id);
    if (sib?.backup !== backup.uuid)
      throw nonFieldError(`Service instance backup ${id} does not belong to backup ${backup.uuid}.`);
    if (s.backupState(backup) !== 'COMPLETED' || sib.errors.length > 0)
      throw nonFieldError(`Service instance backup ${id} is not available for download.`);
  }
  const uuid = s.newUuid('backup-download');
  const rec = {
    uuid,
    backup: backup.uuid,
    author: s.user.uuid,
    trigger: trigger ?? 'MANUAL',
    createdMs: s.now(),
    serviceInstanceBackups: sibs ?? [],
  };
  s.backupDownloads.set(uuid, rec);
  const failure = s.downloadFailures.get(backup.environment);
  for (const id of rec.serviceInstanceBackups) {
    const x = s.newUuid('backup-download-service-instance');
    s.backupDownloadServiceInstances.set(x, {
      uuid: x,
      backup_download: uuid,
      service_instance_backup: id,
      createdMs: rec.createdMs,
      durationMs: s.timings.downloadMs,
      errors: failure ? [failure] : [],
    });
  }
  return ok({ ...backupDownloadView(rec), service_instance_backups: rec.serviceInstanceBackups }, 201);
};

const listBdsi: Handler = (ctx) => {
  const s = ctx.state;
  // `backup` (sent by the CLI) is not a filter here and is ignored, as django-filter ignores unknown params
  const dl = uuidFilter(ctx, 'backup_download');
  const sib = uuidFilter(ctx, 'service_instance_backup');
  const items = inListOrder(
    s,
    [...s.backupDownloadServiceInstances.values()].filter(
      (x) => (!dl || x.backup_download === dl) && (!sib || x.service_instance_backup === sib),
    ),
  );
  return paginate(ctx, items, (x) => bdsiView(s, x));
};

// ---- environment variables ---------------------------------------------------------------------

const listEnvVars: Handler = (ctx) => {
  const s = ctx.state;
  const apps = uuidListFilter(ctx, 'application');
  const envs = uuidListFilter(ctx, 'environment');
  if (apps.length === 0 && envs.length === 0) {
    // inferred from a CLI comment: the endpoint requires `application` and/or `environment`
    throw nonFieldError('Either application or environment must be provided.');
  }
  const appEnvs = new Set<string>();
  for (const a of apps) for (const e of envsOfApp(s, a)) appEnvs.add(e);
  const name = ctx.query.get('name');
  const sensitive = boolFilter(ctx, 'is_sensitive');
  const envSlug = ctx.query.get('environment_slug');
  const uuids = uuidListFilter(ctx, 'uuid');
  const readOnly = boolFilter(ctx, 'is_read_only');
  const items = [...s.environmentVariables.values()].filter(
    (v) =>
      (uuids.length === 0 || uuids.includes(v.uuid)) &&
      (readOnly === undefined || v.is_read_only === readOnly) &&
      (apps.length === 0 || appEnvs.has(v.environment)) &&
      (envs.length === 0 || envs.includes(v.environment)) &&
      (!name || v.name === name) &&
      (sensitive === undefined || v.is_sensitive === sensitive) &&
      (!envSlug || s.environments.get(v.environment)?.slug === envSlug),
  );
  return paginate(ctx, items, (v) => envVarView(s, v));
};

function uniqueVarName(s: SandboxState, env: string, name: string, except?: string): boolean {
  for (const v of s.environmentVariables.values())
    if (v.environment === env && v.name === name && v.uuid !== except) return false;
  return true;
}

/** A variable change as an activity: its name only, never its value. */
function varActivity(
  s: SandboxState,
  v: { uuid: string; name: string; environment: string },
  type: 'environment_variable_create' | 'environment_variable_update' | 'environment_variable_delete',
  description: string,
): void {
  const env = s.environments.get(v.environment);
  if (env) recordActivity(s, { env, type, description, context: { variable: v.uuid, name: v.name } });
}

const deleteEnvVar: Handler = (ctx, id) => {
  const rec = get(ctx.state.environmentVariables, id);
  ctx.state.environmentVariables.delete(rec.uuid);
  varActivity(ctx.state, rec, 'environment_variable_delete', `Removed ${rec.name}`);
  return { status: 204 };
};

const createEnvVar: Handler = (ctx) => {
  const s = ctx.state;
  const v = new BodyValidator(ctx.body);
  const name = v.string('name', { required: true, maxLength: 255 });
  const envId = v.pk('environment', (u) => s.environments.has(u));
  const value = v.string('value', { maxLength: 10000, allowBlank: true }) ?? '';
  const sensitive = v.bool('is_sensitive') ?? false;
  const pattern = v.bool('is_pattern_replacement_active') ?? false;
  v.check();
  // inferred: DRF's UniqueTogetherValidator wording, assuming a unique (environment, name) constraint
  if (!uniqueVarName(s, envId ?? '', name ?? ''))
    throw nonFieldError('The fields environment, name must make a unique set.');
  const uuid = s.newUuid('environment-variable');
  const order = [...s.environmentVariables.values()].filter((x) => x.environment === envId).length;
  const at = iso(s.now());
  const rec = {
    uuid,
    name: name ?? '',
    environment: envId ?? '',
    value,
    order,
    is_sensitive: sensitive,
    is_read_only: false,
    is_pattern_replacement_active: pattern,
    date_created: at,
    date_modified: at,
  };
  s.environmentVariables.set(uuid, rec);
  varActivity(s, rec, 'environment_variable_create', `Added ${rec.name}`);
  return ok(envVarView(s, rec), 201);
};

function updateEnvVar(partial: boolean): Handler {
  return (ctx, id) => {
    const s = ctx.state;
    const rec = get(s.environmentVariables, id);
    const v = new BodyValidator(ctx.body);
    // environment and is_sensitive are read-only on update and silently ignored, as DRF does
    const name = v.string('name', { required: !partial, maxLength: 255 });
    const value = v.string('value', { maxLength: 10000, allowBlank: true });
    const pattern = v.bool('is_pattern_replacement_active');
    v.check();
    // inferred: DRF's UniqueTogetherValidator wording, assuming a unique (environment, name) constraint
    if (name !== undefined && !uniqueVarName(s, rec.environment, name, rec.uuid))
      throw nonFieldError('The fields environment, name must make a unique set.');
    if (name !== undefined) rec.name = name;
    // A PUT without `value` leaves it unchanged: DRF skips optional fields that were not sent.
    if (value !== undefined) rec.value = value;
    if (pattern !== undefined) rec.is_pattern_replacement_active = pattern;
    rec.date_modified = iso(s.now());
    varActivity(s, rec, 'environment_variable_update', `Changed ${rec.name}`);
    return ok(envVarView(s, rec));
  };
}

// ---- domains, cronjobs -------------------------------------------------------------------------

const listDomains: Handler = (ctx) => {
  const s = ctx.state;
  const app = uuidFilter(ctx, 'application');
  const env = uuidFilter(ctx, 'environment');
  const org = uuidFilter(ctx, 'organisation');
  const name = ctx.query.get('name');
  const appEnvs = app ? envsOfApp(s, app) : undefined;
  const items = [...s.domains.values()].filter((d) => {
    const e = s.environments.get(d.environment);
    const a = e ? s.applications.get(e.application) : undefined;
    return (
      (!appEnvs || appEnvs.has(d.environment)) &&
      (!env || d.environment === env) &&
      (!org || a?.organisation === org) &&
      (!name || d.name === name)
    );
  });
  return paginate(ctx, items, domainView);
};

const createDomain: Handler = (ctx) => {
  const s = ctx.state;
  const v = new BodyValidator(ctx.body);
  const name = v.string('name', { required: true, maxLength: 255 });
  const envId = v.pk('environment', (u) => s.environments.has(u));
  // inferred: DRF's UniqueValidator wording, assuming domain names are unique across the platform
  if (name && [...s.domains.values()].some((d) => d.name === name))
    v.addError('name', 'domain with this name already exists.');
  v.check();
  const uuid = s.newUuid('domain');
  const rec = {
    uuid,
    name: name ?? '',
    environment: envId ?? '',
    is_primary: false,
    is_redirect_to_primary: false,
    is_managed_by_divio: false,
    is_tls_enabled: false,
    domain_config: {},
    created_at: iso(s.now()),
  };
  s.domains.set(uuid, rec);
  return ok({ uuid, name: rec.name, environment: rec.environment }, 201);
};

const updateDomain: Handler = (ctx, id) => {
  const d = get(ctx.state.domains, id);
  const v = new BodyValidator(ctx.body);
  const redirect = v.bool('is_redirect_to_primary');
  const cfg = v.data['domain_config'];
  if (cfg !== undefined && (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)))
    v.addError('domain_config', 'Invalid data. Expected a dictionary.');
  v.check();
  if (redirect !== undefined) d.is_redirect_to_primary = redirect;
  if (cfg !== undefined) d.domain_config = cfg as Record<string, unknown>;
  return ok({
    uuid: d.uuid,
    name: d.name,
    is_redirect_to_primary: d.is_redirect_to_primary,
    domain_config: d.domain_config,
  });
};

const FREQUENCIES = ['DAILY', 'HOURLY', 'EVERY10MIN'] as const;

const listCronjobs: Handler = (ctx) => {
  const s = ctx.state;
  const env = uuidFilter(ctx, 'environment');
  const items = [...s.cronjobs.values()].filter((c) => !env || c.environment === env);
  return paginateLimitOffset(ctx, items, cronjobView);
};

function cronjobFields(v: BodyValidator, partial: boolean) {
  const command = v.string('command', { required: !partial });
  const frequency = v.choice('frequency', FREQUENCIES, { required: !partial });
  const time = v.string('time', { maxLength: 16, allowBlank: true });
  const rawTimeout = v.data['custom_timeout'];
  let timeout: number | null | undefined;
  if (rawTimeout === null) timeout = null;
  else if (rawTimeout !== undefined) {
    const n = typeof rawTimeout === 'number' ? rawTimeout : Number(rawTimeout);
    if (!Number.isInteger(n)) v.addError('custom_timeout', 'A valid integer is required.');
    else if (n < 0) v.addError('custom_timeout', 'Ensure this value is greater than or equal to 0.');
    else timeout = n;
  }
  return { command, frequency, time, timeout };
}

const createCronjob: Handler = (ctx) => {
  const s = ctx.state;
  const v = new BodyValidator(ctx.body);
  const f = cronjobFields(v, false);
  const envId = v.pk('environment', (u) => s.environments.has(u));
  v.check();
  const uuid = s.newUuid('cronjob');
  const rec: Cronjob = {
    uuid,
    command: f.command ?? '',
    frequency: f.frequency ?? 'DAILY',
    time: f.time ?? '',
    environment: envId ?? '',
    custom_timeout: f.timeout ?? null,
  };
  s.cronjobs.set(uuid, rec);
  return ok(cronjobView(rec), 201);
};

function updateCronjob(partial: boolean): Handler {
  return (ctx, id) => {
    const c = get(ctx.state.cronjobs, id);
    const v = new BodyValidator(ctx.body);
    const f = cronjobFields(v, partial);
    v.check();
    if (f.command !== undefined) c.command = f.command;
    if (f.frequency !== undefined) c.frequency = f.frequency;
    if (f.time !== undefined) c.time = f.time;
    if (f.timeout !== undefined) c.custom_timeout = f.timeout;
    return ok(cronjobView(c));
  };
}

/**
 * GetCronjobLogs: the reference's sample is one object `{started_at, finished_at, exit_code}`, so this answers
 * the latest run (inferred: which run it is, and nulls while a cronjob has not run yet or is running).
 */
const cronjobLogs = (ctx: Ctx, job: Cronjob): Result => {
  const s = ctx.state;
  const env = s.environments.get(job.environment);
  const app = env ? s.applications.get(env.application) : undefined;
  const key = `${app?.slug ?? ''}/${env?.slug ?? ''}`;
  const now = s.now();
  const run = latestRun(key, job, now, cronFailingFrom(key, s.startedAt));
  const done = run !== null && run.finishedMs <= now;
  return ok({
    started_at: run ? iso(run.startedMs) : null,
    finished_at: done ? iso(run.finishedMs) : null,
    exit_code: done ? run.exitCode : null,
  });
};

function destroy<T>(pick: (s: SandboxState) => Map<string, T>): Handler {
  return (ctx, id) => {
    const map = pick(ctx.state);
    const item = get(map, id);
    for (const [k, v] of map) if (v === item) map.delete(k);
    return { status: 204 };
  };
}

// ---- route table -------------------------------------------------------------------------------

const API_ROOT_COLLECTIONS = [
  'applications',
  'environments',
  'deployments',
  'backups',
  'backup-restores',
  'backup-downloads',
  'backup-download-service-instances',
  'service-instances',
  'service-instance-backups',
  'service-instance-backup-restores',
  'environment-variables',
  'domains',
  'cronjobs',
  'regions',
  'services',
  'repositories',
];

function route(path: string, methods: Route['methods'], auth = true): Route {
  return {
    pattern: new RegExp(`^${path.replace('{id}', ID)}$`),
    auth,
    methods,
    cliSlashless: CLI_SLASHLESS.has(path),
  };
}

export const routes: Route[] = [
  route(
    '/apps/v3/',
    {
      GET: (ctx) =>
        ok(Object.fromEntries(API_ROOT_COLLECTIONS.map((c) => [c, `${ctx.origin}/apps/v3/${c}/`]))),
    },
    false,
  ),
  route('/apps/v3/application-activities/', { GET: listActivities }),
  route('/apps/v3/application-activities/{id}/', { GET: getActivity }),
  route('/apps/v3/applications/', { GET: listApplications }),
  route('/apps/v3/applications/{id}/', {
    GET: (ctx, id) => ok(applicationView(ctx.state, get(ctx.state.applications, id))),
  }),
  route('/apps/v3/environments/', { GET: listEnvironments }),
  route('/apps/v3/environments/{id}/', {
    GET: (ctx, id) => ok(environmentView(ctx.state, get(ctx.state.environments, id), true)),
    PATCH: patchEnvironment,
  }),
  route('/apps/v3/environments/{id}/stop/', { POST: stopEnvironment }),
  route('/apps/v3/repositories/{id}/commits/', { GET: repositoryCommits }),
  route('/apps/v3/environments/{id}/logs/', {
    GET: (ctx, id) => environmentLogs(ctx, get(ctx.state.environments, id)),
  }),
  // inferred path (see INFERRED in src/client/resources.ts)
  route('/apps/v3/environments/{id}/logs/occurrence/', {
    GET: (ctx, id) => environmentLogsOccurrence(ctx, get(ctx.state.environments, id)),
  }),
  // inferred path (see INFERRED in src/client/resources.ts)
  route('/apps/v3/environments/{id}/metrics/', {
    GET: (ctx, id) => environmentMetrics(ctx, get(ctx.state.environments, id)),
  }),
  route('/apps/v3/environment-metric-metadata/', {
    GET: (ctx) => {
      const env = uuidFilter(ctx, 'environment');
      // inferred: every environment has the same metrics; an unknown environment has none
      const items = env && !ctx.state.environments.has(env) ? [] : metricMetadata();
      return paginate(ctx, items, (m) => m);
    },
  }),
  route('/apps/v3/environment-metric-metadata/{id}/', {
    GET: (_ctx, id) => ok(get(new Map(metricMetadata().map((m) => [m.uuid, m])), id)),
  }),
  route('/apps/v3/deployments/', { GET: listDeployments, POST: createDeployment }),
  route('/apps/v3/deployments/{id}/', {
    GET: (ctx, id) => ok(deploymentView(ctx.state, get(ctx.state.deployments, id))),
  }),
  route('/apps/v3/deployments/{id}/logs/', {
    GET: (ctx, id) => {
      const d = get(ctx.state.deployments, id);
      return ok({ uuid: d.uuid, logs: deploymentLogText(ctx.state, d) });
    },
  }),
  route('/apps/v3/deployments/{id}/environment-variables/', {
    GET: (ctx, id) => {
      const d = get(ctx.state.deployments, id);
      return ok({ ...deploymentView(ctx.state, d), environment_variables: { ...d.environmentVariables } });
    },
  }),
  route('/apps/v3/backups/', { GET: listBackups, POST: createBackup }),
  route('/apps/v3/backups/{id}/', {
    GET: (ctx, id) => ok(backupView(ctx.state, get(ctx.state.backups, id))),
  }),
  route('/apps/v3/service-instances/', {
    GET: (ctx) => {
      const env = uuidFilter(ctx, 'environment');
      const items = [...ctx.state.serviceInstances.values()].filter((x) => !env || x.environment === env);
      return paginate(ctx, items, serviceInstanceView);
    },
  }),
  route('/apps/v3/service-instances/{id}/', {
    GET: (ctx, id) => ok(serviceInstanceView(get(ctx.state.serviceInstances, id))),
  }),
  route('/apps/v3/service-instance-backups/', { GET: listSibs }),
  route('/apps/v3/service-instance-backups/{id}/', {
    GET: (ctx, id) => ok(serviceInstanceBackupView(ctx.state, get(ctx.state.serviceInstanceBackups, id))),
  }),
  route('/apps/v3/service-instance-backup-restores/', {
    GET: (ctx) => {
      const uuids = uuidListFilter(ctx, 'uuid');
      const items = [...ctx.state.serviceInstanceBackupRestores.values()].filter(
        (x) => uuids.length === 0 || uuids.includes(x.uuid),
      );
      return paginate(ctx, items, (x) => sibRestoreView(ctx.state, x));
    },
  }),
  route('/apps/v3/service-instance-backup-restores/{id}/', {
    GET: (ctx, id) => ok(sibRestoreView(ctx.state, get(ctx.state.serviceInstanceBackupRestores, id))),
  }),
  route('/apps/v3/backup-restores/', { GET: listRestores, POST: createRestore }),
  route('/apps/v3/backup-restores/{id}/', {
    GET: (ctx, id) => ok(backupRestoreView(ctx.state, get(ctx.state.backupRestores, id))),
  }),
  route('/apps/v3/backup-downloads/', {
    GET: (ctx) =>
      paginate(ctx, inListOrder(ctx.state, ctx.state.backupDownloads.values()), backupDownloadView),
    POST: createDownload,
  }),
  route('/apps/v3/backup-downloads/{id}/', {
    GET: (ctx, id) => ok(backupDownloadView(get(ctx.state.backupDownloads, id))),
  }),
  route('/apps/v3/backup-download-service-instances/', { GET: listBdsi }),
  route('/apps/v3/backup-download-service-instances/{id}/', {
    GET: (ctx, id) => ok(bdsiView(ctx.state, get(ctx.state.backupDownloadServiceInstances, id))),
  }),
  route('/apps/v3/environment-variables/', { GET: listEnvVars, POST: createEnvVar }),
  route('/apps/v3/environment-variables/{id}/', {
    GET: (ctx, id) => ok(envVarView(ctx.state, get(ctx.state.environmentVariables, id))),
    PUT: updateEnvVar(false),
    PATCH: updateEnvVar(true),
    DELETE: deleteEnvVar,
  }),
  route('/apps/v3/domains/', { GET: listDomains, POST: createDomain }),
  route('/apps/v3/domains/{id}/', {
    GET: (ctx, id) => ok(domainView(get(ctx.state.domains, id))),
    PUT: updateDomain,
    PATCH: updateDomain,
    DELETE: destroy((s) => s.domains),
  }),
  route('/apps/v3/cronjobs/', { GET: listCronjobs, POST: createCronjob }),
  // inferred path (see INFERRED in src/client/resources.ts)
  route('/apps/v3/cronjobs/{id}/logs/', { GET: (ctx, id) => cronjobLogs(ctx, get(ctx.state.cronjobs, id)) }),
  route('/apps/v3/cronjobs/{id}/', {
    GET: (ctx, id) => ok(cronjobView(get(ctx.state.cronjobs, id))),
    PUT: updateCronjob(false),
    PATCH: updateCronjob(true),
    DELETE: destroy((s) => s.cronjobs),
  }),
  route('/apps/v3/regions/', {
    GET: (ctx) => {
      const uuids = uuidListFilter(ctx, 'uuid');
      const short = ctx.query.get('short_name');
      const name = ctx.query.get('name');
      // ignored: `organisation` is declared by the API reference, but its semantics are not established
      const items = [...ctx.state.regions.values()].filter(
        (r) =>
          (uuids.length === 0 || uuids.includes(r.uuid)) &&
          (!short || r.short_name === short) &&
          (!name || r.name === name),
      );
      return paginate(ctx, items, (r) => ({ ...r }));
    },
  }),
  route('/apps/v3/regions/{id}/', { GET: (ctx, id) => ok({ ...get(ctx.state.regions, id) }) }),
  route('/apps/v3/services/', {
    GET: (ctx) => {
      const s = ctx.state;
      const regions = uuidListFilter(ctx, 'region');
      const type = ctx.query.get('type');
      const identifier = ctx.query.get('identifier');
      const name = ctx.query.get('name');
      const backupable = boolFilter(ctx, 'is_backupable');
      const selfManageable = boolFilter(ctx, 'is_self_manageable');
      // inferred semantics: `website` (an application) keeps the services offered in that application's region
      const website = uuidFilter(ctx, 'website');
      const websiteRegion = website ? (s.applications.get(website)?.region ?? '') : undefined;
      const items = [...s.services.values()].filter(
        (x) =>
          (regions.length === 0 || regions.includes(x.region)) &&
          (!type || x.type === type) &&
          (!identifier || x.identifier === identifier) &&
          (!name || x.name === name) &&
          (backupable === undefined || x.is_backupable === backupable) &&
          (selfManageable === undefined || x.is_self_manageable === selfManageable) &&
          (websiteRegion === undefined || x.region === websiteRegion),
      );
      return paginate(ctx, items, (x) => ({ ...x }));
    },
  }),
  route('/apps/v3/services/{id}/', { GET: (ctx, id) => ok({ ...get(ctx.state.services, id) }) }),
  route('/iam/v3/organisations/', {
    GET: (ctx) => paginate(ctx, [...ctx.state.organisations.values()], (o) => ({ ...o })),
  }),
  route('/iam/v3/organisations/{id}/', { GET: (ctx, id) => ok({ ...get(ctx.state.organisations, id) }) }),
  route('/iam/v3/me/', { GET: (ctx) => ok({ ...ctx.state.user }) }),
];

export function matchRoute(path: string): { route: Route; id: string } | null {
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) return { route: r, id: m[1] ?? '' };
  }
  return null;
}

export { HttpError };
