import * as z from 'zod';
import {
  BackupDetail,
  BackupList,
  type BackupRow,
  getBackup as backupDetail,
  listBackups as backupList,
} from '../domain/backups.js';
import { backupLink, envLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { formatAge, formatDuration } from '../text/format.js';
import { envName, ident, quote } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, EnvRef, Limit, ObjectId } from './schemas.js';

export function renderBackup(b: BackupRow): string {
  const result = b.state === 'COMPLETED' ? ident(b.success, 'no result') : ident(b.state);
  const services = b.services
    .map(
      (s) =>
        `${ident(s.type.toLowerCase())} ${ident(s.prefix, '')}: ${s.size}, ${formatDuration(s.seconds_taken)}`,
    )
    .join('; ');
  return `${ident(b.uuid)} ${ident(b.environment, '')} ${ident(b.created)} (${formatAge(b.created)}): ${result}${services ? ` — ${services}` : ''}${b.trigger ? ` — trigger ${ident(b.trigger)}` : ''}${b.notes ? ` — notes: ${quote(b.notes)}` : ''}${b.problem ? `\n  ${b.problem}` : ''}`;
}

const listBackups = defineTool({
  name: 'list_backups',
  title: 'List backups',
  toolset: 'backups',
  description:
    "Lists an environment's backups, newest first; one: get_backup. Returns state, result, size, time per service; paginated (next_cursor).",
  input: z.strictObject({ app: AppRef, environment: EnvRef, limit: Limit, cursor: Cursor }),
  output: BackupList,
  annotations: READ_ONLY,
  handler: (args, ctx) => backupList(ctx, args, pages(ctx, args.cursor)),
  render: (out) =>
    [
      `Backups of ${envName(out.app, out.environment)}, newest first:`,
      ...out.backups.map((b) => `- ${renderBackup(b)}`),
      out.backups.length === 0 ? 'No backups.' : '',
      out.note ?? '',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [
    envLink(out.app, out.environment),
    ...out.backups.slice(0, 10).map((b) => backupLink(b.uuid)),
  ],
});

const getBackup = defineTool({
  name: 'get_backup',
  title: 'Get backup',
  toolset: 'backups',
  description:
    'Gets a backup by ID; all of them: list_backups. Returns state, result and per service type, size, time, errors.',
  input: z.strictObject({ backup: ObjectId('backup', 'list_backups or create_backup') }),
  output: BackupDetail,
  annotations: READ_ONLY,
  handler: ({ backup }, ctx) => backupDetail(ctx, backup),
  render: (b) => `${renderBackup(b)}${b.note ? `\n${b.note}` : ''}`,
  links: (b) => [backupLink(b.uuid)],
});

export const backupReadTools = [listBackups, getBackup];
