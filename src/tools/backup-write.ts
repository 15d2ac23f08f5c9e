import * as z from 'zod';
import {
  backupTarget,
  CreatedBackup,
  createBackup,
  DownloadLink,
  downloadBackup,
  downloadPreview,
  RestoreResult,
  restoreBackup,
  restorePreview,
} from '../domain/backup-writes.js';
import { backupLink } from '../mcp/links.js';
import { effects } from '../mcp/outcome.js';
import { defineTool } from '../mcp/registry.js';
import { envName, ident, url } from '../text/index.js';
import { renderBackup } from './backups.js';
import { AppRef, EnvRef, ObjectId, WaitSeconds } from './schemas.js';

const ServicesArg = z
  .array(z.string().min(1).max(64))
  .max(10)
  .optional()
  .describe('database, storage or service prefixes; omit for all');

export const createBackupTool = defineTool({
  name: 'create_backup',
  title: 'Create backup',
  toolset: 'backups',
  description:
    "Backs up an environment's database and/or storage and waits with progress; existing ones: list_backups. Returns the backup (if the wait ends first, follow it with get_backup). No confirmation: overwrites nothing.",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    services: z
      .array(z.string().min(1).max(64))
      .max(10)
      .optional()
      .describe('database, storage or service prefixes; omit for all'),
    notes: z.string().max(255).optional().describe('Note stored with the backup'),
    wait_seconds: WaitSeconds,
  }),
  output: CreatedBackup,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  policyTarget: (args, ctx) => backupTarget(ctx, args.app, args.environment),
  handler: (args, ctx) => createBackup(ctx, args, effects(ctx)),
  render: (out) =>
    out.finished
      ? `Backup of ${envName(out.app, out.environment)} finished: ${renderBackup(out.backup)}`
      : `Backup of ${envName(out.app, out.environment)} started (${ident(out.backup.uuid)}), state ${ident(out.backup.state)}. ${out.next_step}`,
  links: (out) => [backupLink(out.backup.uuid)],
});

export const restoreBackupTool = defineTool({
  name: 'restore_backup',
  title: 'Restore backup',
  toolset: 'backups',
  description:
    'Restores a backup onto its environment, overwriting database and/or storage, waiting with progress; pick one with list_backups. Returns the result per service. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({
    backup: ObjectId('backup', 'list_backups'),
    services: ServicesArg,
    wait_seconds: WaitSeconds,
  }),
  output: RestoreResult,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  confirm: { preview: (args, ctx) => restorePreview(ctx, args) },
  handler: (args, ctx) => restoreBackup(ctx, args, effects(ctx)),
  auditUuid: (out) => out.restore,
  render: (out) =>
    `Restore ${ident(out.restore)} onto ${envName(out.app, out.environment)} (${out.services.join(', ')}): ${out.finished ? ident(out.success, 'finished without a result') : 'still running'}. ${out.next_step ?? ''}`,
});

export const createBackupDownload = defineTool({
  name: 'create_backup_download',
  title: 'Create backup download',
  toolset: 'backups',
  description:
    "Creates a time-limited download URL for a backup's service, waiting; whoever has it gets the data. Backup details: get_backup. Returns the URL. Asks the person first (protected environments: dialog only).",
  input: z.strictObject({
    backup: ObjectId('backup', 'list_backups'),
    service: z.string().min(1).max(64).default('database').describe('database, storage or a service prefix'),
    wait_seconds: WaitSeconds,
  }),
  output: DownloadLink,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  confirm: { preview: (args, ctx) => downloadPreview(ctx, args) },
  handler: (args, ctx) => downloadBackup(ctx, args, effects(ctx)),
  auditUuid: (out) => out.backup,
  render: (out) =>
    out.download_url
      ? `Download link for ${out.service} of backup ${ident(out.backup)}${out.expires_at ? `, valid until ${out.expires_at}` : ''}:\n${url(out.download_url)}\n${out.next_step}`
      : `The download of ${out.service} is still being prepared. ${out.next_step}`,
});
