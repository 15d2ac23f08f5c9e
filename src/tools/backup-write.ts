import * as z from 'zod';
import type { ServiceInstanceBackup } from '../client/index.js';
import {
  type BackupContext,
  describeSib,
  errorText,
  loadBackupContext,
  pickDownloadPart,
  requireUsable,
  restoreFailures,
  servicesOfBackup,
} from '../domain/backups.js';
import { idOf } from '../domain/targets.js';
import { ToolError } from '../mcp/errors.js';
import { createdSince, performWrite, readAll } from '../mcp/outcome.js';
import { defineTool, type ToolContext } from '../mcp/registry.js';
import { stillRunning, waitForOperation } from '../mcp/wait.js';
import { formatAge, presignedExpiry } from '../text/format.js';
import { envName, ident, inline, quote, quoteList, url } from '../text/index.js';
import { ObjectId, WaitSeconds } from './schemas.js';

function targetOf(b: BackupContext) {
  return {
    app: b.app,
    environment: b.env.slug,
    environmentUuid: b.env.uuid,
    productionGrade: b.env.is_production_grade === true,
  };
}

const ServicesArg = z
  .array(z.string().min(1).max(64))
  .max(10)
  .optional()
  .describe('database, storage or service prefixes; omit for all');

/** The newest restore of an environment by `started_at` (whichever order the API lists them in), and the count. */
function restorePage(ctx: ToolContext, envUuid: string) {
  return ctx.client.backupRestores.newestFirst({ environment: envUuid }, { limit: 1, signal: ctx.signal });
}

function restoreNextStep(success: string | null, failures: { service: string; errors: string[] }[]): string {
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

export const restoreBackup = defineTool({
  name: 'restore_backup',
  title: 'Restore backup',
  toolset: 'backups',
  description:
    'Restores a backup onto its environment, overwriting database and/or storage, and waits with progress; pick one with list_backups. Returns the result per service. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({
    backup: ObjectId('backup', 'list_backups'),
    services: ServicesArg,
    wait_seconds: WaitSeconds,
  }),
  output: z.object({
    restore: z.string(),
    app: z.string(),
    environment: z.string(),
    services: z.array(z.string()),
    finished: z.boolean(),
    success: z.string().nullable(),
    /** Services whose restore reported errors (sanitized), read by the IDs the restore names. */
    failed_services: z.array(z.object({ service: z.string(), errors: z.array(z.string()) })),
    next_step: z.string().nullable(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  confirm: {
    preview: async (args, ctx) => {
      const b = await loadBackupContext(ctx, args.backup);
      requireUsable(b);
      const chosen = servicesOfBackup(b.sibs, args.services);
      const restores = await restorePage(ctx, b.env.uuid);
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
    },
  },
  handler: async (args, ctx) => {
    const b = await loadBackupContext(ctx, args.backup);
    requireUsable(b);
    const chosen = servicesOfBackup(b.sibs, args.services);
    const body = {
      backup: b.backup.uuid,
      service_instance_restores: chosen.map((s) => ({ service_instance_backup: s.uuid })),
      notes: 'Restore via divio-mcp',
    };
    const created = await performWrite(ctx, {
      what: `the restore of backup ${b.backup.uuid} onto ${b.app}/${b.env.slug}`,
      kind: 'restore',
      send: () => ctx.client.backupRestores.create(body, { signal: ctx.signal }),
      handle: (r) => r.uuid,
      lookup: async (since) => {
        const all = await readAll(ctx, () =>
          ctx.client.backupRestores.list({ environment: b.env.uuid, page_size: 100 }, { signal: ctx.signal }),
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
    const outcome = await waitForOperation(
      {
        initial: created,
        poll: (signal) => ctx.client.backupRestores.get(created.uuid, { signal }),
        isDone: (r) => r.finished === true,
        describe: (r) => ({
          progress: r.finished ? 100 : 50,
          total: 100,
          message: r.finished ? 'Restore finished' : 'Restoring',
        }),
        budgetSeconds: args.wait_seconds ?? ctx.config.defaultWaitSeconds,
      },
      ctx,
    );
    const success = typeof outcome.state.success === 'string' ? inline(outcome.state.success, 40) : null;
    // Per-service errors are read once the restore finished; failing to read them must not hide the result.
    const failures = outcome.finished
      ? await restoreFailures(ctx, outcome.state, b.sibs).catch(() => [])
      : [];
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
  },
  auditUuid: (out) => out.restore,
  render: (out) =>
    `Restore ${ident(out.restore)} onto ${envName(out.app, out.environment)} (${out.services.join(', ')}): ${out.finished ? ident(out.success, 'finished without a result') : 'still running'}. ${out.next_step ?? ''}`,
});

export const createBackupDownload = defineTool({
  name: 'create_backup_download',
  title: 'Create backup download',
  toolset: 'backups',
  description:
    'Creates a time-limited download URL for one service of a backup and waits; anyone with it gets the data. Details: get_backup. Returns the URL. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({
    backup: ObjectId('backup', 'list_backups'),
    service: z.string().min(1).max(64).default('database').describe('database, storage or a service prefix'),
    wait_seconds: WaitSeconds,
  }),
  output: z.object({
    backup: z.string(),
    service: z.string(),
    finished: z.boolean(),
    download_url: z.string().nullable(),
    expires_at: z
      .string()
      .nullable()
      .describe('When the link stops working (ISO 8601, read from the signed URL); null if it does not say'),
    next_step: z.string().nullable(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  confirm: {
    preview: async (args, ctx) => {
      const b = await loadBackupContext(ctx, args.backup);
      requireUsable(b);
      const [sib] = servicesOfBackup(b.sibs, [args.service]);
      // Newest by `started_at`, not by position: no source establishes the list's order.
      const downloads = await ctx.client.backupDownloads.newestFirst({ limit: 1, signal: ctx.signal });
      return {
        summary: `Create a download link for the ${describeSib(sib as ServiceInstanceBackup)} backup of ${envName(b.app, b.env.slug)}. Anyone holding the link can download that data until it expires.`,
        details: {
          Environment: envName(b.app, b.env.slug),
          Service: describeSib(sib as ServiceInstanceBackup),
          'Backup taken': `${ident(b.backup.created)} (${formatAge(b.backup.created as string | undefined)})`,
        },
        // Creating a download adds one, so a token creates exactly one link.
        state: `downloads:${downloads.count ?? '?'}:${downloads.items[0]?.uuid ?? 'none'}`,
        target: targetOf(b),
      };
    },
  },
  handler: async (args, ctx) => {
    const b = await loadBackupContext(ctx, args.backup);
    requireUsable(b);
    const [sib] = servicesOfBackup(b.sibs, [args.service]);
    if (!sib) throw new ToolError(`Backup ${ident(args.backup)} has no ${quote(args.service)} service.`);
    const downloadId = await performWrite(ctx, {
      what: `the download link for backup ${ident(b.backup.uuid)}`,
      kind: 'download',
      send: async () =>
        (
          await ctx.client.backupDownloads.create(
            { backup: b.backup.uuid, service_instance_backups: [sib.uuid], trigger: 'MANUAL' },
            { signal: ctx.signal },
          )
        ).uuid,
      handle: (id) => id,
      lookup: async (since) => {
        // REF's filter on ListBackupDownloadServiceInstances: the files prepared for this service backup.
        const all = await readAll(ctx, () =>
          ctx.client.backupDownloadServiceInstances.list(
            { service_instance_backup: sib.uuid, page_size: 100 },
            { signal: ctx.signal },
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
    const items = await ctx.client.backupDownloadServiceInstances.all(
      { backup_download: downloadId },
      { signal: ctx.signal },
    );
    const item = pickDownloadPart(items.items, downloadId, sib.uuid);
    if (!item)
      throw new ToolError(
        `Divio created download ${ident(downloadId)} but has not listed its file for ${describeSib(sib)} yet${items.complete ? '' : ' (among the parts this server read: the list stopped at its cap)'}, so there is no URL to give. Do not create another link now: another needs a new confirmation, and this one may still become ready.`,
      );
    const outcome = await waitForOperation(
      {
        initial: item,
        poll: (signal) => ctx.client.backupDownloadServiceInstances.get(item.uuid, { signal }),
        isDone: (d) => typeof d.ended_at === 'string',
        describe: (d) => ({
          progress: d.ended_at ? 100 : 50,
          total: 100,
          message: d.ended_at ? 'Ready' : 'Preparing download',
        }),
        budgetSeconds: args.wait_seconds ?? ctx.config.defaultWaitSeconds,
      },
      ctx,
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
  },
  auditUuid: (out) => out.backup,
  render: (out) =>
    out.download_url
      ? `Download link for ${out.service} of backup ${ident(out.backup)}${out.expires_at ? `, valid until ${out.expires_at}` : ''}:\n${url(out.download_url)}\n${out.next_step}`
      : `The download of ${out.service} is still being prepared. ${out.next_step}`,
});
