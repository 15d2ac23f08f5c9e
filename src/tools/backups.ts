import * as z from 'zod';
import {
  BackupDetail,
  BackupList,
  BackupRow,
  getBackup as backupDetail,
  listBackups as backupList,
  backupRow,
  loadServiceBackups,
  servicesToBackUp,
} from '../domain/backups.js';
import { idOf, idsOf, resolveTarget } from '../domain/targets.js';
import { ToolError } from '../mcp/errors.js';
import { backupLink, envLink } from '../mcp/links.js';
import { createdSince, performWrite, readAll } from '../mcp/outcome.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { stillRunning, waitForOperation } from '../mcp/wait.js';
import { formatAge, formatDuration } from '../text/format.js';
import { envName, ident, quote } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, EnvRef, Limit, ObjectId, WaitSeconds } from './schemas.js';

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
    'Gets one backup by ID from list_backups or create_backup. Returns state, result and per service: type, size, time taken, errors.',
  input: z.strictObject({ backup: ObjectId('backup', 'list_backups or create_backup') }),
  output: BackupDetail,
  annotations: READ_ONLY,
  handler: ({ backup }, ctx) => backupDetail(ctx, backup),
  render: (b) => `${renderBackup(b)}${b.note ? `\n${b.note}` : ''}`,
  links: (b) => [backupLink(b.uuid)],
});

const createBackup = defineTool({
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
  output: z.object({
    app: z.string(),
    environment: z.string(),
    finished: z.boolean(),
    backup: BackupRow,
    next_step: z.string().nullable(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  policyTarget: async (args, ctx) => {
    const { app, env } = await resolveTarget(ctx, args.app, args.environment);
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      environmentUuid: env.uuid,
      productionGrade: false,
    };
  },
  handler: async (args, ctx) => {
    const { app, env } = await resolveTarget(ctx, args.app, args.environment);
    const instances = await ctx.client.serviceInstances.all(
      { environment: env.uuid },
      { signal: ctx.signal },
    );
    if (!instances.complete) {
      // Backing up "all services" from a cut list would silently leave some out.
      throw new ToolError(
        `${app.slug}/${env.slug} lists more service instances than the ${instances.items.length} this server reads, so it cannot tell which ones to back up. Back it up from the Divio Control Panel instead.`,
      );
    }
    const services = servicesToBackUp(instances.items, args.services);
    if (services.length === 0) {
      throw new ToolError(
        `${envName(app.slug, env.slug)} has no provisioned database or storage to back up.`,
      );
    }
    const notes = args.notes ?? 'Backup via divio-mcp';
    const wanted = new Set(services.map((s) => s.uuid));
    const created = await performWrite(ctx, {
      what: `the backup of ${app.slug}/${env.slug}`,
      kind: 'backup',
      send: () =>
        ctx.client.backups.create(
          { environment: env.uuid, services: [...wanted], notes },
          { signal: ctx.signal },
        ),
      handle: (b) => b.uuid,
      lookup: async (since) => {
        const all = await readAll(ctx, () =>
          ctx.client.backups.list({ environment: env.uuid, page_size: 100 }, { signal: ctx.signal }),
        );
        const candidates = createdSince(
          all.filter((b) => (idOf(b.environment) ?? env.uuid) === env.uuid && (b.notes ?? '') === notes),
          (b) => b.created,
          since,
        );
        if (candidates.length === 0) return null;
        // A backup of other services is not this one; service backups not listed yet do not rule one out.
        const sibs = await loadServiceBackups(ctx, candidates);
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
    const outcome = await waitForOperation(
      {
        initial: created,
        poll: (signal) => ctx.client.backups.get(created.uuid, { signal }),
        isDone: (b) => b.state === 'COMPLETED',
        describe: (b) => ({
          progress: b.state === 'COMPLETED' ? 100 : b.state === 'WORKING' ? 50 : 10,
          total: 100,
          message: `Backup ${String(b.state ?? 'WAITING').toLowerCase()}`,
        }),
        budgetSeconds: args.wait_seconds ?? ctx.config.defaultWaitSeconds,
      },
      ctx,
    );
    // After a failed poll the API may still be failing: return the handle rather than risk losing it.
    const sibs =
      outcome.stoppedBecause === 'poll-failed'
        ? new Map()
        : await loadServiceBackups(ctx, [outcome.state]).catch(() => new Map());
    const row = backupRow(outcome.state, sibs, env.slug);
    return {
      app: String(app.slug ?? app.uuid),
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
  },
  render: (out) =>
    out.finished
      ? `Backup of ${envName(out.app, out.environment)} finished: ${renderBackup(out.backup)}`
      : `Backup of ${envName(out.app, out.environment)} started (${ident(out.backup.uuid)}), state ${ident(out.backup.state)}. ${out.next_step}`,
  links: (out) => [backupLink(out.backup.uuid)],
});

export const backupReadTools = [listBackups, getBackup, createBackup];
