import * as z from 'zod';
import { formatAge, presignedExpiry } from '../text/format.js';
import { envName, ident, inline, quote, quoteList } from '../text/index.js';
import {
  type BackupContext,
  BackupRow,
  backupRow,
  describeSib,
  errorText,
  loadBackupContext,
  loadServiceBackups,
  pickDownloadPart,
  requireUsable,
  restoreFailures,
  type ServiceFailure,
  servicesOfBackup,
  servicesToBackUp,
} from './backups.js';
import type { Api } from './context.js';
import {
  type ConfirmPreview,
  createdSince,
  type Effects,
  readAll,
  stillRunning,
  type WriteTarget,
} from './effects.js';
import { ToolError } from './errors.js';
import { idOf, idsOf, resolveTarget } from './targets.js';

// ---------------------------------------------------------------------------------------------------------
// create_backup: no confirmation (it only adds), but the read-only environment policy applies.

/** Where a new backup of this environment lands. */
export async function backupTarget(api: Api, appRef: string, envRef: string): Promise<WriteTarget> {
  const { app, env } = await resolveTarget(api, appRef, envRef);
  return { app: app.slug, environment: env.slug, environmentUuid: env.uuid, productionGrade: false };
}

export const CreatedBackup = z.object({
  app: z.string(),
  environment: z.string(),
  finished: z.boolean(),
  backup: BackupRow,
  next_step: z.string().nullable(),
});

export interface CreateBackupArgs {
  app: string;
  environment: string;
  services?: string[] | undefined;
  notes?: string | undefined;
  wait_seconds?: number | undefined;
}

/** Backs up an environment's database and/or storage, waiting with progress. */
export async function createBackup(
  api: Api,
  args: CreateBackupArgs,
  fx: Effects,
): Promise<z.infer<typeof CreatedBackup>> {
  const { app, env } = await resolveTarget(api, args.app, args.environment);
  const instances = await api.client.serviceInstances.all({ environment: env.uuid }, api);
  if (!instances.complete) {
    // Backing up "all services" from a cut list would silently leave some out.
    throw new ToolError(
      `${app.slug}/${env.slug} lists more service instances than the ${instances.items.length} this server reads, so it cannot tell which ones to back up. Back it up from the Divio Control Panel instead.`,
    );
  }
  const services = servicesToBackUp(instances.items, args.services);
  if (services.length === 0) {
    throw new ToolError(`${envName(app.slug, env.slug)} has no provisioned database or storage to back up.`);
  }
  const notes = args.notes ?? 'Backup via divio-mcp';
  const wanted = new Set(services.map((s) => s.uuid));
  const created = await fx.write({
    what: `the backup of ${app.slug}/${env.slug}`,
    kind: 'backup',
    send: () => api.client.backups.create({ environment: env.uuid, services: [...wanted], notes }, api),
    handle: (b) => b.uuid,
    lookup: async (since) => {
      const all = await readAll(api, () =>
        api.client.backups.list({ environment: env.uuid, page_size: 100 }, api),
      );
      const candidates = createdSince(
        all.filter((b) => (idOf(b.environment) ?? env.uuid) === env.uuid && (b.notes ?? '') === notes),
        (b) => b.created,
        since,
      );
      if (candidates.length === 0) return null;
      // A backup of other services is not this one; service backups not listed yet do not rule one out.
      const sibs = await loadServiceBackups(api, candidates);
      return (
        candidates.find((b) =>
          idsOf(b.service_instance_backups).every((id) => {
            const instance = sibs.get(id)?.service_instance;
            return typeof instance !== 'string' || wanted.has(instance);
          }),
        ) ?? null
      );
    },
    checkWith: `list_backups (app ${app.slug}, environment ${env.slug})`,
    ifNotDone: 'Call create_backup again to take the backup.',
  });
  const outcome = await fx.wait(
    {
      initial: created,
      poll: (signal) => api.client.backups.get(created.uuid, { signal }),
      isDone: (b) => b.state === 'COMPLETED',
      describe: (b) => ({
        progress: b.state === 'COMPLETED' ? 100 : b.state === 'WORKING' ? 50 : 10,
        total: 100,
        message: `Backup ${String(b.state ?? 'WAITING').toLowerCase()}`,
      }),
    },
    args.wait_seconds,
  );
  // After a failed poll the API may still be failing: return the handle rather than risk losing it.
  const sibs =
    outcome.stoppedBecause === 'poll-failed'
      ? new Map()
      : await loadServiceBackups(api, [outcome.state]).catch(() => new Map());
  const row = backupRow(outcome.state, sibs, env.slug);
  return {
    app: app.slug,
    environment: env.slug,
    finished: outcome.finished,
    backup: row,
    next_step: outcome.finished
      ? null
      : stillRunning(
          outcome,
          `Call get_backup with backup=${ident(row.uuid)} to follow it; do not start another.`,
        ),
  };
}

// ---------------------------------------------------------------------------------------------------------
// restore_backup

function targetOf(b: BackupContext): WriteTarget {
  return {
    app: b.app,
    environment: b.env.slug,
    environmentUuid: b.env.uuid,
    productionGrade: b.env.is_production_grade === true,
  };
}

export interface RestoreArgs {
  backup: string;
  services?: string[] | undefined;
  wait_seconds?: number | undefined;
}

/** What restoring shows the person first; bound to the environment's newest restore, so a token restores once. */
export async function restorePreview(api: Api, args: RestoreArgs): Promise<ConfirmPreview> {
  const b = await loadBackupContext(api, args.backup);
  requireUsable(b);
  const chosen = servicesOfBackup(b.sibs, args.services);
  // The newest restore of the environment by `started_at` (whichever order the API lists them in), and the count.
  const restores = await api.client.backupRestores.newestFirst(
    { environment: b.env.uuid },
    { limit: 1, signal: api.signal },
  );
  const latest = restores.items[0];
  const production = b.env.is_production_grade === true;
  return {
    summary: `Restore backup ${ident(b.backup.uuid)} onto ${envName(b.app, b.env.slug)}${production ? ' (PRODUCTION)' : ''}, overwriting its current ${chosen.map((s) => ident(String(s.service_type).toLowerCase())).join(' and ')}.`,
    details: {
      Environment: `${envName(b.app, b.env.slug)}${production ? ' (production)' : ''}`,
      Overwrites: chosen.map(describeSib).join(', '),
      'Backup taken': `${ident(b.backup.created)} (${formatAge(b.backup.created as string | undefined)})`,
      Trigger: typeof b.backup.trigger === 'string' && b.backup.trigger ? ident(b.backup.trigger) : '-',
      Notes: b.backup.notes ? quote(inline(String(b.backup.notes))) : '-',
      'Changes since then': 'lost for the restored services',
    },
    // A new restore of this environment changes this, so a token restores once.
    state: `restore:${restores.count ?? '?'}:${latest?.uuid ?? 'none'}`,
    target: targetOf(b),
  };
}

function restoreNextStep(success: string | null, failures: ServiceFailure[]): string {
  if (success === 'SUCCESS' && failures.length === 0)
    return 'Verify the environment with diagnose_environment.';
  const which = failures.map((f) => `${f.service} failed: ${f.errors.join('; ')}`).join('; ');
  const what =
    success === 'PARTIAL'
      ? 'The restore only partly succeeded'
      : success === 'FAILURE'
        ? 'The restore failed'
        : success === 'SUCCESS'
          ? 'The restore reported success, but a service reported errors'
          : `The restore finished without a clear result (${success === null ? 'none' : JSON.stringify(success)})`;
  return `${what}${which ? `: ${which}` : ''}. The affected services may now hold incomplete data: check the environment with diagnose_environment before using it, and restore again (a new restore_backup, with services= naming the failed ones) or contact Divio support if it fails the same way.`;
}

export const RestoreResult = z.object({
  restore: z.string(),
  app: z.string(),
  environment: z.string(),
  services: z.array(z.string()),
  finished: z.boolean(),
  success: z.string().nullable(),
  /** Services whose restore reported errors (sanitized), read by the IDs the restore names. */
  failed_services: z.array(z.object({ service: z.string(), errors: z.array(z.string()) })),
  next_step: z.string().nullable(),
});

/** Restores a backup onto its environment, overwriting the chosen services; waits with progress. */
export async function restoreBackup(
  api: Api,
  args: RestoreArgs,
  fx: Effects,
): Promise<z.infer<typeof RestoreResult>> {
  const b = await loadBackupContext(api, args.backup);
  requireUsable(b);
  const chosen = servicesOfBackup(b.sibs, args.services);
  const body = {
    backup: b.backup.uuid,
    service_instance_restores: chosen.map((s) => ({ service_instance_backup: s.uuid })),
    notes: 'Restore via divio-mcp',
  };
  const created = await fx.write({
    what: `the restore of backup ${b.backup.uuid} onto ${b.app}/${b.env.slug}`,
    kind: 'restore',
    send: () => api.client.backupRestores.create(body, api),
    handle: (r) => r.uuid,
    lookup: async (since) => {
      const all = await readAll(api, () =>
        api.client.backupRestores.list({ environment: b.env.uuid, page_size: 100 }, api),
      );
      const mine = all.filter(
        (r) =>
          (idOf(r.environment) ?? b.env.uuid) === b.env.uuid &&
          idOf(r.backup) === b.backup.uuid &&
          (r.notes ?? body.notes) === body.notes,
      );
      return createdSince(mine, (r) => r.started_at ?? r['created'], since)[0] ?? null;
    },
    checkWith: `get_environment (app ${b.app}, environment ${b.env.slug}) and list_backups`,
    ifNotDone:
      'The environment keeps its current data. Call restore_backup again to restore (that asks for confirmation again).',
  });
  const outcome = await fx.wait(
    {
      initial: created,
      poll: (signal) => api.client.backupRestores.get(created.uuid, { signal }),
      isDone: (r) => r.finished === true,
      describe: (r) => ({
        progress: r.finished ? 100 : 50,
        total: 100,
        message: r.finished ? 'Restore finished' : 'Restoring',
      }),
    },
    args.wait_seconds,
  );
  const success = typeof outcome.state.success === 'string' ? inline(outcome.state.success, 40) : null;
  // Per-service errors are read once the restore finished; failing to read them must not hide the result.
  const failures = outcome.finished ? await restoreFailures(api, outcome.state, b.sibs).catch(() => []) : [];
  return {
    restore: created.uuid,
    app: b.app,
    environment: b.env.slug,
    services: chosen.map(describeSib),
    finished: outcome.finished,
    success,
    failed_services: failures,
    next_step: !outcome.finished
      ? stillRunning(
          outcome,
          `Restore ${ident(created.uuid)}: check later with get_environment; do not start another restore.`,
        )
      : restoreNextStep(success, failures),
  };
}

// ---------------------------------------------------------------------------------------------------------
// create_backup_download: a link that hands out the data, so it is confirmed like a write.

export interface DownloadArgs {
  backup: string;
  service: string;
  wait_seconds?: number | undefined;
}

/** The one service backup a download is for; refused when the backup has none of that name. */
function downloadService(b: BackupContext, service: string) {
  const [sib] = servicesOfBackup(b.sibs, [service]);
  if (!sib) throw new ToolError(`Backup ${ident(b.backup.uuid)} has no ${quote(service)} service.`);
  return sib;
}

/** What creating a download link shows the person first; bound to the newest download, so a token makes one. */
export async function downloadPreview(api: Api, args: DownloadArgs): Promise<ConfirmPreview> {
  const b = await loadBackupContext(api, args.backup);
  requireUsable(b);
  const sib = downloadService(b, args.service);
  // Newest by `started_at`, not by position: no source establishes the list's order.
  const downloads = await api.client.backupDownloads.newestFirst({ limit: 1, signal: api.signal });
  return {
    summary: `Create a download link for the ${describeSib(sib)} backup of ${envName(b.app, b.env.slug)}. Anyone holding the link can download that data until it expires.`,
    details: {
      Environment: envName(b.app, b.env.slug),
      Service: describeSib(sib),
      'Backup taken': `${ident(b.backup.created)} (${formatAge(b.backup.created as string | undefined)})`,
    },
    // Creating a download adds one, so a token creates exactly one link.
    state: `downloads:${downloads.count ?? '?'}:${downloads.items[0]?.uuid ?? 'none'}`,
    target: targetOf(b),
  };
}

export const DownloadLink = z.object({
  backup: z.string(),
  service: z.string(),
  finished: z.boolean(),
  download_url: z.string().nullable(),
  expires_at: z
    .string()
    .nullable()
    .describe('When the link stops working (ISO 8601, read from the signed URL); null if it does not say'),
  next_step: z.string().nullable(),
});

/** Creates a time-limited download link for one service of a backup, waiting until it is ready. */
export async function downloadBackup(
  api: Api,
  args: DownloadArgs,
  fx: Effects,
): Promise<z.infer<typeof DownloadLink>> {
  const b = await loadBackupContext(api, args.backup);
  requireUsable(b);
  const sib = downloadService(b, args.service);
  const downloadId = await fx.write({
    what: `the download link for backup ${ident(b.backup.uuid)}`,
    kind: 'download',
    send: async () =>
      (
        await api.client.backupDownloads.create(
          { backup: b.backup.uuid, service_instance_backups: [sib.uuid], trigger: 'MANUAL' },
          api,
        )
      ).uuid,
    handle: (id) => id,
    lookup: async (since) => {
      // REF's filter on ListBackupDownloadServiceInstances: the files prepared for this service backup.
      const all = await readAll(api, () =>
        api.client.backupDownloadServiceInstances.list(
          { service_instance_backup: sib.uuid, page_size: 100 },
          api,
        ),
      );
      const mine = all.filter((x) => (idOf(x.service_instance_backup) ?? sib.uuid) === sib.uuid);
      const found = createdSince(mine, (x) => x.queued_at ?? x.started_at, since)[0];
      return found ? idOf(found.backup_download) : null;
    },
    checkWith: `list_backups (app ${ident(b.app)}, environment ${ident(b.env.slug)})`,
    ifNotDone:
      'No link was created. Call create_backup_download again to create one (that asks for confirmation again).',
  });
  // The CLI (`localdev/backups.py`) filters with `backup=` and takes `results[0]`; the reference's
  // ListBackupDownloadServiceInstances names the filter `backup_download`. Filter with that, and still pick
  // the part by the IDs the create call returned: a server that ignores the filter lists other downloads too.
  const items = await api.client.backupDownloadServiceInstances.all({ backup_download: downloadId }, api);
  const item = pickDownloadPart(items.items, downloadId, sib.uuid);
  if (!item)
    throw new ToolError(
      `Divio created download ${ident(downloadId)} but has not listed its file for ${describeSib(sib)} yet${items.complete ? '' : ' (among the parts this server read: the list stopped at its cap)'}, so there is no URL to give. Do not create another link now: another needs a new confirmation, and this one may still become ready.`,
    );
  const outcome = await fx.wait(
    {
      initial: item,
      poll: (signal) => api.client.backupDownloadServiceInstances.get(item.uuid, { signal }),
      isDone: (d) => typeof d.ended_at === 'string',
      describe: (d) => ({
        progress: d.ended_at ? 100 : 50,
        total: 100,
        message: d.ended_at ? 'Ready' : 'Preparing download',
      }),
    },
    args.wait_seconds,
  );
  const errors = Array.isArray(outcome.state.errors) ? outcome.state.errors.map(errorText) : [];
  if (outcome.finished && errors.length > 0) {
    throw new ToolError(
      `Preparing the download of ${describeSib(sib)} from backup ${ident(b.backup.uuid)} failed. Divio said: ${quoteList(errors, 5)}. No link was created. The backup itself is unchanged; try create_backup_download again later, or another service of the backup, and contact Divio support if it keeps failing.`,
    );
  }
  const url = typeof outcome.state.download_url === 'string' ? outcome.state.download_url : null;
  return {
    backup: b.backup.uuid,
    service: describeSib(sib),
    finished: outcome.finished,
    download_url: outcome.finished ? url : null,
    expires_at: outcome.finished && url ? presignedExpiry(url) : null,
    next_step: outcome.finished
      ? 'Give the URL only to the user; it grants access to the data until it expires.'
      : 'Still preparing; this usually takes under a minute. Calling again with a larger wait_seconds creates a new link (after a new confirmation).',
  };
}
