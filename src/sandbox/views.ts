import { createHash } from 'node:crypto';
import type {
  Application,
  BackupDownloadRecord,
  BackupDownloadServiceInstanceRecord,
  BackupRecord,
  BackupRestoreRecord,
  Cronjob,
  DeploymentRecord,
  Domain,
  Environment,
  EnvironmentVariable,
  SandboxState,
  ServiceInstance,
  ServiceInstanceBackupRecord,
  ServiceInstanceBackupRestoreRecord,
} from './state.js';
import { iso, uuidFromName } from './util.js';

/**
 * Deployment status values. "done" for a successful deployment is what a live GetDeployment response says (saved
 * in the public repository mebdivio/cdtest1, `deploy.json`); "failure" is the value `divio_cli/cloud.py` once
 * compared with. The intermediate names (queued, building, deploying) are inferred. Clients read the outcome
 * from `success` (null while running), never from these names.
 */
export type DeploymentStatus = 'queued' | 'building' | 'deploying' | 'done' | 'failure';

export function deploymentPhase(
  s: SandboxState,
  d: DeploymentRecord,
): { status: DeploymentStatus; done: boolean } {
  const elapsed = s.now() - d.startedMs;
  if (s.now() >= s.deploymentEndMs(d))
    return { status: d.outcome === 'success' ? 'done' : 'failure', done: true };
  if (elapsed < d.durationMs * 0.1) return { status: 'queued', done: false };
  if (elapsed < d.durationMs * 0.6) return { status: 'building', done: false };
  return { status: 'deploying', done: false };
}

export function deploymentView(s: SandboxState, d: DeploymentRecord): Record<string, unknown> {
  const { status, done } = deploymentPhase(s, d);
  const endMs = s.deploymentEndMs(d);
  const elapsed = Math.max(0, s.now() - d.startedMs);
  return {
    uuid: d.uuid,
    environment: d.environment,
    region: d.region,
    org_membership: d.org_membership,
    started_at: iso(d.startedMs),
    ended_at: done ? iso(endMs) : null,
    duration: done ? (endMs - d.startedMs) / 1000 : null,
    status,
    is_usable: done && d.outcome === 'success',
    success: done ? d.outcome === 'success' : null,
    git_commit: d.git_commit,
    alternative_dockerfile: null,
    copy_from: d.copy_from,
    environment_variables: Object.keys(d.environmentVariables),
    percent: done ? 100 : Math.min(99, Math.floor((elapsed / d.durationMs) * 100)),
  };
}

export function deploymentLogText(s: SandboxState, d: DeploymentRecord): string {
  const elapsed = s.now() - d.startedMs;
  return d.log
    .filter((l) => l.at * d.durationMs <= elapsed)
    .map((l) => `${iso(d.startedMs + Math.round(l.at * d.durationMs))} ${l.text}`)
    .join('\n');
}

export function environmentDeployments(s: SandboxState, envUuid: string) {
  let running: DeploymentRecord | undefined;
  let lastFinished: DeploymentRecord | undefined;
  for (const d of s.deploymentsOf(envUuid)) {
    const { done } = deploymentPhase(s, d);
    if (!done) {
      running ??= d;
      continue;
    }
    if (!lastFinished || s.deploymentEndMs(d) > s.deploymentEndMs(lastFinished)) lastFinished = d;
  }
  // A stopped environment serves nothing until a deployment succeeds again (see `releasedOf`).
  return { running, lastFinished, released: s.releasedOf(envUuid) };
}

export function applicationView(s: SandboxState, a: Application): Record<string, unknown> {
  return {
    uuid: a.uuid,
    slug: a.slug,
    name: a.name,
    organisation: a.organisation,
    region: a.region,
    repository: a.repository,
    screenshots: {},
    custom_screenshots: {},
    avatars: {},
    is_suspended: false,
    suspended_reason: '',
    is_undergoing_maintenance: false,
    maintenance_reason: '',
    copy_type: null,
    is_repository_read_only: false,
    release_commands: [],
    has_annotations: false,
    updates_available: false,
    created_at: a.created_at,
    tags: [],
    copied_from: null,
    requires_migration: false,
    is_locked: false,
    features: [],
    permissions: [],
    can_add_environment: true,
    environments: [...s.environments.values()].filter((e) => e.application === a.uuid).map((e) => e.uuid),
  };
}

const BUILT_IN_VARIABLES = ['DEFAULT_DATABASE_DSN', 'DEFAULT_STORAGE_DSN', 'DOMAIN', 'STAGE'];

/**
 * Names of an environment's variables, as the live list shows them: the environment's own variables, then the
 * built-in ones (inferred: the live sample mixes both, e.g. `SECRET_KEY` and `DEFAULT_DATABASE_DSN`; the order is
 * not established).
 */
function variableNamesOf(s: SandboxState, envUuid: string): string[] {
  const own = [...s.environmentVariables.values()]
    .filter((v) => v.environment === envUuid)
    .sort((a, b) => a.order - b.order)
    .map((v) => v.name);
  return [...new Set([...own, ...BUILT_IN_VARIABLES])];
}

/**
 * The fields the live list and detail views share. `app_name` is `<app>-<env>-<32 hex>` and
 * `pending_commits_lookup` is the git range `<released commit>..<branch>` in a live response (mebdivio/cdtest1,
 * `environment.json`); null before anything was released is inferred.
 */
function liveEnvironmentFields(
  s: SandboxState,
  e: Environment,
  slug: string,
  released: DeploymentRecord | undefined,
): Record<string, unknown> {
  const primary = [...s.domains.values()].find((d) => d.environment === e.uuid && d.is_primary);
  const suffix = createHash('sha1').update(`divio-sandbox:app-name:${e.uuid}`).digest('hex').slice(0, 32);
  return {
    app_name: `${slug}-${e.slug}-${suffix}`,
    primary_domain: primary?.uuid ?? null,
    pending_commits_lookup: released ? `${released.git_commit}..${e.branch}` : null,
    ondemand_backup_retention_config: uuidFromName('backup-retention:default'),
    scheduled_backup_config: uuidFromName(`scheduled-backup:${e.is_production_grade ? 'daily' : 'none'}`),
    environment_variables: variableNamesOf(s, e.uuid),
  };
}

export function environmentView(s: SandboxState, e: Environment, detail: boolean): Record<string, unknown> {
  const app = s.applications.get(e.application);
  const slug = app?.slug ?? 'app';
  const { running, lastFinished, released } = environmentDeployments(s, e.uuid);
  const host = `${slug}-${e.slug}.eu.aldryn.io`;
  const live = liveEnvironmentFields(s, e, slug, released ?? s.lastSucceededOf(e.uuid));
  const pending = s.pendingCommitsOf(e).length;
  return {
    uuid: e.uuid,
    application: detail && app ? applicationView(s, app) : e.application,
    slug: e.slug,
    branch: e.branch,
    is_production_grade: e.is_production_grade,
    pending_commits_lookup: live['pending_commits_lookup'],
    has_pending_commits: pending > 0,
    alternative_dockerfile: e.alternative_dockerfile,
    deployed_url: released ? `https://${host}` : null,
    last_finished_deployment: lastFinished ? deploymentView(s, lastFinished) : null,
    currently_running_deployment: running ? deploymentView(s, running) : null,
    currently_released_deployment: released ? deploymentView(s, released) : null,
    app_name: live['app_name'],
    primary_domain: live['primary_domain'],
    divio_domain: host,
    application_config: null,
    ssh_endpoint: { host: 'ssh.eu.aldryn.io', port: 22, user: `${slug}-${e.slug}` },
    ondemand_backup_retention_config: live['ondemand_backup_retention_config'],
    scheduled_backup_config: live['scheduled_backup_config'],
    next_scheduled_backup_occurence: e.is_production_grade ? iso(s.startedAt + 6 * 3_600_000) : null,
    pending_commit_count: pending,
    has_pending_changes: false,
    pending_changes: [],
    running_tasks: running ? [{ type: 'DEPLOYMENT', uuid: running.uuid }] : [],
    built_in_environment_variables: [...BUILT_IN_VARIABLES],
    environment_variables: live['environment_variables'],
  };
}

export function serviceInstanceView(si: ServiceInstance): Record<string, unknown> {
  return {
    uuid: si.uuid,
    environment: si.environment,
    region: si.region,
    service: si.service,
    service_status: si.service_status,
    last_status_update: si.last_status_update,
    prefix: si.prefix,
    type: si.type,
    last_config_update: si.last_config_update,
    environment_variables: [`${si.prefix}_${si.type === 'DATABASE' ? 'DATABASE' : 'STORAGE'}_DSN`],
  };
}

export function backupView(s: SandboxState, b: BackupRecord): Record<string, unknown> {
  const state = s.backupState(b);
  const done = state === 'COMPLETED';
  let size = 0;
  for (const id of b.serviceInstanceBackups) size += s.serviceInstanceBackups.get(id)?.size ?? 0;
  return {
    uuid: b.uuid,
    environment: b.environment,
    org_membership: b.org_membership,
    trigger: b.trigger,
    tags: [],
    created: iso(b.createdMs),
    notes: b.notes,
    state,
    size: done ? size : 0,
    meta_information: null,
    service_instance_backups: [...b.serviceInstanceBackups],
    scheduled_for_deletion_at: b.scheduled_for_deletion_at,
    success: done ? b.outcome : null,
  };
}

export function serviceInstanceBackupView(
  s: SandboxState,
  sib: ServiceInstanceBackupRecord,
): Record<string, unknown> {
  const b = s.backups.get(sib.backup);
  const state = b ? s.backupState(b) : 'COMPLETED';
  const created = b?.createdMs ?? s.startedAt;
  const startMs = created + Math.round((b?.durationMs ?? 0) * 0.15);
  const endMs = created + (b?.durationMs ?? 0);
  return {
    uuid: sib.uuid,
    backup: sib.backup,
    service: sib.service,
    service_instance: sib.service_instance,
    service_type: sib.service_type,
    service_prefix: sib.service_prefix,
    size: state === 'COMPLETED' ? sib.size : null,
    errors: state === 'COMPLETED' ? [...sib.errors] : [],
    queued_at: iso(created),
    started_at: state === 'WAITING' ? null : iso(startMs),
    ended_at: state === 'COMPLETED' ? iso(endMs) : null,
    taken_at: state === 'COMPLETED' && sib.errors.length === 0 ? iso(startMs) : null,
  };
}

export function restoreFinished(s: SandboxState, r: BackupRestoreRecord): boolean {
  return s.now() - r.createdMs >= r.durationMs;
}

export function backupRestoreView(s: SandboxState, r: BackupRestoreRecord): Record<string, unknown> {
  const finished = restoreFinished(s, r);
  return {
    uuid: r.uuid,
    environment: r.environment,
    backup: r.backup,
    org_membership: r.org_membership,
    started_at: iso(r.createdMs),
    trigger: 0,
    finished,
    success: finished ? r.outcome : null,
    notes: r.notes,
    service_instance_backup_restores: [...r.serviceInstanceBackupRestores],
  };
}

export function sibRestoreView(
  s: SandboxState,
  x: ServiceInstanceBackupRestoreRecord,
): Record<string, unknown> {
  const r = s.backupRestores.get(x.backup_restore);
  const created = r?.createdMs ?? s.startedAt;
  const finished = r ? restoreFinished(s, r) : true;
  const started = r ? s.now() - created >= r.durationMs * 0.1 : true;
  return {
    uuid: x.uuid,
    backup_restore: x.backup_restore,
    service_instance_backup: x.service_instance_backup,
    service_instance: x.service_instance,
    queued_at: iso(created),
    started_at: started ? iso(created + Math.round((r?.durationMs ?? 0) * 0.1)) : null,
    ended_at: finished ? iso(created + (r?.durationMs ?? 0)) : null,
    errors: finished ? [...x.errors] : [],
  };
}

export function backupDownloadView(d: BackupDownloadRecord): Record<string, unknown> {
  return {
    uuid: d.uuid,
    backup: d.backup,
    author: d.author,
    started_at: iso(d.createdMs),
    trigger: d.trigger,
  };
}

export function bdsiView(s: SandboxState, x: BackupDownloadServiceInstanceRecord): Record<string, unknown> {
  const elapsed = s.now() - x.createdMs;
  const done = elapsed >= x.durationMs;
  return {
    uuid: x.uuid,
    backup_download: x.backup_download,
    service_instance_backup: x.service_instance_backup,
    // inferred: a download that ends with errors has no URL (the CLI only reads `errors` then)
    download_url: done && x.errors.length === 0 ? s.downloadUrlFor(x) : null,
    queued_at: iso(x.createdMs),
    started_at: elapsed >= x.durationMs * 0.1 ? iso(x.createdMs + Math.round(x.durationMs * 0.1)) : null,
    ended_at: done ? iso(x.createdMs + x.durationMs) : null,
    errors: done ? [...x.errors] : [],
  };
}

export function envVarView(s: SandboxState, v: EnvironmentVariable): Record<string, unknown> {
  // Real values, sensitive or not, by default: whether Divio masks sensitive values is not established
  // (the reference says only "should only be exposed upon authorization"), so the MCP layer must do the
  // masking. `sensitiveValues: 'masked'` answers them as null instead, the other possibility.
  return s.sensitiveValues === 'masked' && v.is_sensitive ? { ...v, value: null } : { ...v };
}

export function domainView(d: Domain): Record<string, unknown> {
  return {
    uuid: d.uuid,
    name: d.name,
    environment: d.environment,
    last_check_status: true,
    last_check_timestamp: d.created_at,
    last_check_details: null,
    is_tls_enabled: d.is_tls_enabled,
    is_redirect_to_primary: d.is_redirect_to_primary,
    is_primary: d.is_primary,
    is_editable: !d.is_managed_by_divio,
    is_managed_by_divio: d.is_managed_by_divio,
    is_wildcard: false,
    is_monitored: true,
    setup_instructions_html: '',
    additional_actions: [],
    domain_config: d.domain_config,
    state: 'OK',
    state_message: '',
  };
}

export function cronjobView(c: Cronjob): Record<string, unknown> {
  return { ...c };
}
