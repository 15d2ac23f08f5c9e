import * as z from 'zod';
import type {
  Backup,
  BackupDownloadServiceInstance,
  BackupRestore,
  Environment,
  ServiceInstance,
  ServiceInstanceBackup,
} from '../client/index.js';
import { formatAge, formatBytes, secondsBetween } from '../text/format.js';
import { ident, inline, quote } from '../text/index.js';
import type { Api, Pager } from './context.js';
import { ToolError } from './errors.js';
import { PageInfo, PlatformText } from './shapes.js';
import { envSlugOf, idOf, idsOf, resolveTarget } from './targets.js';

export const ServiceBackupRow = z.object({
  uuid: z.string(),
  type: z.string(),
  prefix: PlatformText('service prefix'),
  size_bytes: z.number().nullable(),
  size: z.string(),
  seconds_taken: z.number().nullable(),
  taken_at: z.string().nullable(),
  errors: z.array(PlatformText('service backup error')),
});

export const BackupRow = z.object({
  uuid: z.string(),
  environment: z.string().nullable(),
  created: z.string().nullable(),
  state: z.string(),
  success: z.string().nullable(),
  trigger: z.string().nullable().describe('What started the backup, as the API names it (e.g. MANUAL)'),
  notes: PlatformText(
    'backup notes as stored (a person, a client or the platform wrote them), on one line',
  ).nullable(),
  services: z.array(ServiceBackupRow),
  /** What went wrong (which service, its error) and what to do next; null for a successful or running backup. */
  problem: z.string().nullable(),
});
export type BackupRow = z.infer<typeof BackupRow>;

/** An `errors` item from the API, as text that is safe to show (sanitized, one line, capped). */
export function errorText(e: unknown): string {
  if (typeof e === 'string') return inline(e, 300);
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    for (const key of ['message', 'detail', 'error'])
      if (typeof o[key] === 'string') return inline(o[key], 300);
  }
  return inline(JSON.stringify(e) ?? String(e), 300);
}

/** "database DEFAULT", "storage MEDIA": how a service is named in sentences and in the `services` argument. */
export function serviceLabel(type: string, prefix: string): string {
  return `${ident(type.toLowerCase())}${prefix ? ` ${ident(prefix)}` : ''}`;
}

/**
 * The outcome of a completed backup in one sentence: which service failed with which error, and the next step.
 * `success` is read only once `state` is COMPLETED (the CLI waits for COMPLETED, then requires SUCCESS;
 * PARTIAL, FAILURE and null are the other results its tests show).
 */
export function backupProblem(row: Omit<BackupRow, 'problem'>): string | null {
  if (row.state !== 'COMPLETED') return null;
  const failed = row.services.filter((s) => s.errors.length > 0);
  const ok = row.services.filter((s) => s.errors.length === 0);
  const which = failed
    .map((s) => `${serviceLabel(s.type, s.prefix)} failed: ${s.errors.join('; ')}`)
    .join('; ');
  if (row.success === 'SUCCESS') {
    return failed.length > 0 ? `Reported as successful, but ${which}.` : null;
  }
  if (row.success === 'PARTIAL') {
    // The `services` argument of restore_backup: the kind when it names one service here, else the prefix.
    const argOf = (s: (typeof ok)[number]) =>
      row.services.filter((x) => x.type === s.type).length === 1 ? s.type.toLowerCase() : s.prefix;
    const usable = ok.map((s) => JSON.stringify(argOf(s))).join(', ');
    return `Only part of this backup succeeded${which ? `: ${which}` : ''}.${usable ? ` Only ${ok.map((s) => serviceLabel(s.type, s.prefix)).join(' and ')} can be restored (restore_backup with services=[${usable}]).` : ''} Run create_backup again for a complete backup.`;
  }
  if (row.success === 'FAILURE') {
    return `This backup failed${which ? `: ${which}` : ''}. It cannot be restored or downloaded. Run create_backup again; if it fails the same way, check the service with get_environment.`;
  }
  if (row.success === null) {
    return 'This backup completed without a result (its success field is empty), so do not rely on it for a restore. Check it again with get_backup later, or run create_backup for a new one.';
  }
  return `This backup completed with an unrecognised result ${JSON.stringify(row.success)}, so do not rely on it for a restore.`;
}

/** A note for backups whose service backups were not all read (the by-ID list stopped at its cap). */
export function missingServicesNote(
  backups: readonly Backup[],
  sibs: Map<string, ServiceInstanceBackup>,
): string | null {
  const missing = backups
    .flatMap((b) => idsOf(b.service_instance_backups))
    .filter((x) => !sibs.has(x)).length;
  return missing > 0
    ? `${missing} service backup(s) could not be read (the API's list of them stopped early), so some services are not shown. get_backup reads one backup's services again.`
    : null;
}

function sibRow(s: ServiceInstanceBackup): z.infer<typeof ServiceBackupRow> {
  const size = typeof s.size === 'number' ? s.size : null;
  return {
    uuid: s.uuid,
    type: String(s.service_type ?? 'UNKNOWN'),
    prefix: String(s.service_prefix ?? ''),
    size_bytes: size,
    size: formatBytes(size),
    seconds_taken: secondsBetween(s.started_at, s.ended_at),
    taken_at: typeof s.taken_at === 'string' ? s.taken_at : null,
    errors: Array.isArray(s.errors) ? s.errors.map(errorText) : [],
  };
}

/**
 * Loads the service-instance backups of several backups, 100 IDs per request (repeated `uuid` filter),
 * following `next` when the API answers with smaller pages than asked.
 */
export async function loadServiceBackups(
  api: Api,
  backups: readonly Backup[],
): Promise<Map<string, ServiceInstanceBackup>> {
  const uuids = backups.flatMap((b) => idsOf(b.service_instance_backups));
  const out = new Map<string, ServiceInstanceBackup>();
  for (let i = 0; i < uuids.length; i += 100) {
    const chunk = uuids.slice(i, i + 100);
    const listing = await api.client.serviceInstanceBackups.all({ uuid: chunk }, api);
    // Only the asked-for IDs: a server that ignores the filter must not mix in other backups' services.
    for (const s of listing.items) if (chunk.includes(s.uuid)) out.set(s.uuid, s);
  }
  return out;
}

export function backupRow(
  b: Backup,
  sibs: Map<string, ServiceInstanceBackup>,
  envSlug: string | null,
): BackupRow {
  const row = {
    uuid: b.uuid,
    environment: envSlug,
    created: typeof b.created === 'string' ? b.created : null,
    state: typeof b.state === 'string' ? inline(b.state, 40) : 'UNKNOWN',
    success: typeof b.success === 'string' ? inline(b.success, 40) : null,
    trigger:
      typeof b.trigger === 'string' && b.trigger
        ? inline(b.trigger, 40)
        : typeof b.trigger === 'number'
          ? String(b.trigger)
          : null,
    notes: typeof b.notes === 'string' && b.notes ? inline(b.notes) : null,
    services: idsOf(b.service_instance_backups).flatMap((id) => {
      const s = sibs.get(id);
      return s ? [sibRow(s)] : [];
    }),
  };
  return { ...row, problem: backupProblem(row) };
}

export const BackupList = z.object({
  app: z.string(),
  environment: z.string(),
  backups: z.array(BackupRow),
  note: z.string().nullable(),
  ...PageInfo,
});

/** Backups of an environment, newest first by `created` across pages, whichever order the API pages in. */
export async function listBackups(
  api: Api,
  args: { app: string; environment: string; limit: number },
  pager: Pager,
): Promise<z.infer<typeof BackupList>> {
  const { app, env } = await resolveTarget(api, args.app, args.environment);
  const scope = { app: app.uuid, environment: env.uuid };
  // See client/order.ts.
  const page = await api.client.backups.newestFirst(
    { environment: env.uuid },
    { limit: args.limit, cursor: pager.open(scope), signal: api.signal },
  );
  const sibs = await loadServiceBackups(api, page.items);
  const notes = [page.note, missingServicesNote(page.items, sibs)].filter((n): n is string => n !== null);
  return {
    app: app.slug,
    environment: env.slug,
    backups: page.items.map((b) => backupRow(b, sibs, env.slug)),
    note: notes.length > 0 ? notes.join(' ') : null,
    ...pager.info(scope, page.next),
  };
}

export const BackupDetail = BackupRow.extend({
  environment_uuid: z.string().nullable(),
  note: z.string().nullable(),
});

export async function getBackup(api: Api, uuid: string): Promise<z.infer<typeof BackupDetail>> {
  const b = await api.client.backups.get(uuid, api);
  const envId = idOf(b.environment);
  // Both need only the backup: read them at once.
  const [sibs, slug] = await Promise.all([loadServiceBackups(api, [b]), envSlugOf(api, envId)]);
  return { ...backupRow(b, sibs, slug), environment_uuid: envId, note: missingServicesNote([b], sibs) };
}

const SERVICE_KINDS: Record<string, string> = {
  database: 'DATABASE',
  db: 'DATABASE',
  storage: 'STORAGE',
  media: 'STORAGE',
};

type Field = string | null | undefined;

/**
 * The items a `services` argument names: each entry a kind (database, storage) or a prefix; all of them when
 * it is empty. An entry that names nothing is refused with `missing(entry, what there is)`.
 */
function pickServices<T extends { uuid: string }>(
  items: readonly T[],
  wanted: readonly string[] | undefined,
  field: (item: T) => { type: Field; prefix: Field },
  missing: (entry: string, valid: string) => string,
): T[] {
  if (!wanted || wanted.length === 0) return [...items];
  const picked = new Map<string, T>();
  for (const w of wanted) {
    const kind = SERVICE_KINDS[w.toLowerCase()];
    const matches = items.filter((item) => {
      const f = field(item);
      return kind ? f.type === kind : String(f.prefix ?? '').toUpperCase() === w.toUpperCase();
    });
    if (matches.length === 0) {
      const valid = items
        .map((item) => {
          const f = field(item);
          return `${ident(String(f.type).toLowerCase())} (prefix ${ident(f.prefix)})`;
        })
        .join(', ');
      throw new ToolError(missing(w, valid));
    }
    for (const m of matches) picked.set(m.uuid, m);
  }
  return [...picked.values()];
}

/** The service instances a new backup should cover: provisioned databases and storages, by kind or prefix. */
export function servicesToBackUp(
  instances: readonly ServiceInstance[],
  wanted: readonly string[] | undefined,
): ServiceInstance[] {
  const backupable = instances.filter(
    (s) => (s.type === 'DATABASE' || s.type === 'STORAGE') && s.service_status !== 'NEW',
  );
  return pickServices(
    backupable,
    wanted,
    (s) => ({ type: s.type, prefix: s.prefix }),
    (w, valid) =>
      `No backupable service matches ${quote(w)}. This environment has: ${valid || 'no provisioned database or storage'}. Pass database, storage, or one of those prefixes.`,
  );
}

/** The service backups of a backup that a restore or a download should use, by kind or prefix. */
export function servicesOfBackup(
  sibs: readonly ServiceInstanceBackup[],
  wanted: readonly string[] | undefined,
): ServiceInstanceBackup[] {
  return pickServices(
    sibs,
    wanted,
    (s) => ({ type: s.service_type, prefix: s.service_prefix }),
    (w, valid) => `This backup has no ${quote(w)} service. It contains: ${valid || 'nothing'}.`,
  );
}

export function describeSib(s: ServiceInstanceBackup): string {
  return `${ident(String(s.service_type ?? '?').toLowerCase())} ${ident(s.service_prefix, '')} (${formatBytes(typeof s.size === 'number' ? s.size : null)})`;
}

export interface BackupContext {
  backup: Backup;
  env: Environment;
  app: string;
  sibs: ServiceInstanceBackup[];
}

/** A backup, its environment and app, and its service-instance backups. */
export async function loadBackupContext(api: Api, uuid: string): Promise<BackupContext> {
  const backup = await api.client.backups.get(uuid, api);
  const envId = idOf(backup.environment);
  if (!envId) throw new ToolError(`Backup ${ident(uuid)} does not name its environment.`);
  const env = await api.client.environments.get(envId, api);
  const appObj = env.application as unknown;
  let app = typeof env.app_name === 'string' ? env.app_name : envId;
  const appId = idOf(appObj);
  if (appObj && typeof appObj === 'object' && 'slug' in appObj && typeof appObj.slug === 'string')
    app = appObj.slug;
  else if (appId) app = (await api.client.applications.get(appId, api)).slug;
  const map = await loadServiceBackups(api, [backup]);
  return { backup, env, app, sibs: [...map.values()] };
}

/** Refuses a backup that is not completed with a usable result. */
export function requireUsable(b: BackupContext): void {
  if (b.backup.state !== 'COMPLETED' || (b.backup.success !== 'SUCCESS' && b.backup.success !== 'PARTIAL')) {
    throw new ToolError(
      `Backup ${ident(b.backup.uuid)} is ${ident(b.backup.state)}${b.backup.success ? ` (${ident(b.backup.success)})` : ''}, so it cannot be used. Pick a completed, successful one with list_backups.`,
    );
  }
}

const BACKUPS_SCANNED = 50;

/**
 * The newest successful backup among the newest 50 (by `created`, whichever order the API pages in), and
 * what went wrong with the newest completed backup when it did not succeed.
 */
export async function lastSuccessfulBackup(api: Api, envUuid: string) {
  const page = await api.client.backups.newestFirst(
    { environment: envUuid },
    { limit: BACKUPS_SCANNED, signal: api.signal },
  );
  const ok = page.items.find((b) => b.state === 'COMPLETED' && b.success === 'SUCCESS');
  const newest = page.items.find((b) => b.state === 'COMPLETED');
  let problem: string | null = null;
  if (newest && newest !== ok) {
    const sibs = await loadServiceBackups(api, [newest]).catch(() => new Map());
    problem = backupRow(newest, sibs, null).problem;
  }
  return {
    last: ok ? { uuid: ok.uuid, created: typeof ok.created === 'string' ? ok.created : null } : null,
    scanned: page.items.length,
    newest: newest && newest !== ok ? { uuid: newest.uuid, problem } : null,
  };
}

export interface ServiceFailure {
  service: string;
  errors: string[];
}

/**
 * The per-service outcome of a finished restore: each service's sanitized errors, read by the IDs the restore
 * names (GetServiceInstanceBackupRestore), never by position. `sibs` names the services; without it they are
 * read by the IDs the parts name.
 */
export async function restoreFailures(
  api: Api,
  restore: BackupRestore,
  sibs?: readonly ServiceInstanceBackup[],
): Promise<ServiceFailure[]> {
  const ids = idsOf(restore.service_instance_backup_restores);
  if (ids.length === 0) return [];
  const listing = await api.client.serviceInstanceBackupRestores.all({ uuid: ids }, api);
  const byId = new Map(listing.items.filter((x) => ids.includes(x.uuid)).map((x) => [x.uuid, x]));
  const failed = ids.flatMap((id) => {
    const part = byId.get(id);
    const errors = part && Array.isArray(part.errors) ? part.errors.map(errorText) : [];
    return part && errors.length > 0 ? [{ part, errors }] : [];
  });
  if (failed.length === 0) return [];
  let known = sibs;
  if (!known) {
    const sibIds = failed.map((f) => idOf(f.part.service_instance_backup)).filter((x): x is string => !!x);
    known = sibIds.length ? (await api.client.serviceInstanceBackups.all({ uuid: sibIds }, api)).items : [];
  }
  return failed.map(({ part, errors }) => {
    const sib = known.find((s) => s.uuid === idOf(part.service_instance_backup));
    const service = sib
      ? serviceLabel(String(sib.service_type ?? '?'), String(sib.service_prefix ?? ''))
      : 'a service';
    return { service, errors };
  });
}

/** The newest restore of the environment when it ended without full success, with each failed service's errors. */
export async function failedLastRestore(api: Api, envUuid: string): Promise<string | null> {
  const page = await api.client.backupRestores.newestFirst(
    { environment: envUuid },
    { limit: 1, signal: api.signal },
  );
  const last = page.items[0];
  if (last?.finished !== true || last.success === 'SUCCESS') return null;
  const failed = (await restoreFailures(api, last)).map((f) => `${f.service} failed: ${f.errors.join('; ')}`);
  const result = typeof last.success === 'string' ? quote(last.success, 40) : 'no result';
  return `The last restore (${last.uuid}, ${formatAge(typeof last.started_at === 'string' ? last.started_at : null)}) ended with ${result}${failed.length ? `: ${failed.join('; ')}` : ''}. The restored services may hold incomplete data; restore again with restore_backup or contact Divio support.`;
}

/**
 * The download part for one service backup of the download just created, found by the IDs the create call
 * returned (its `uuid` and the service backup it was asked for), never by position in the list.
 */
export function pickDownloadPart(
  parts: readonly BackupDownloadServiceInstance[],
  downloadUuid: string,
  sibUuid: string,
): BackupDownloadServiceInstance | null {
  return (
    parts.find(
      (p) => idOf(p.backup_download) === downloadUuid && idOf(p.service_instance_backup) === sibUuid,
    ) ?? null
  );
}
