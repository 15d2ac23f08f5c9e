import * as z from 'zod';
import type { Backup, DivioClient, ServiceInstance, ServiceInstanceBackup } from '../client/index.js';
import { ToolError } from '../mcp/errors.js';
import { backupLink, envLink } from '../mcp/links.js';
import { createdSince, performWrite, readAll } from '../mcp/outcome.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { stillRunning, waitForOperation } from '../mcp/wait.js';
import { formatAge, formatBytes, formatDuration, secondsBetween } from '../text/format.js';
import { envName, ident, inline, quote } from '../text/index.js';
import { envSlugOf, idOf, openLink, pageInfo, resolveTarget } from './common.js';
import { AppRef, Cursor, EnvRef, Limit, ObjectId, PageInfo, PlatformText, WaitSeconds } from './schemas.js';

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
export type BackupRowOut = z.infer<typeof BackupRow>;

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
export function backupProblem(row: Omit<BackupRowOut, 'problem'>): string | null {
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
  const ids = backups.flatMap((b) =>
    Array.isArray(b.service_instance_backups) ? b.service_instance_backups : [],
  );
  const missing = ids.map((x) => idOf(x)).filter((x): x is string => x !== null && !sibs.has(x)).length;
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
  client: DivioClient,
  backups: readonly Backup[],
  signal: AbortSignal,
): Promise<Map<string, ServiceInstanceBackup>> {
  const ids = backups.flatMap((b) =>
    Array.isArray(b.service_instance_backups) ? b.service_instance_backups : [],
  );
  const uuids = ids.map((x) => idOf(x)).filter((x): x is string => x !== null);
  const out = new Map<string, ServiceInstanceBackup>();
  for (let i = 0; i < uuids.length; i += 100) {
    const chunk = uuids.slice(i, i + 100);
    const listing = await client.serviceInstanceBackups.all({ uuid: chunk }, { signal });
    // Only the asked-for IDs: a server that ignores the filter must not mix in other backups' services.
    for (const s of listing.items) if (chunk.includes(s.uuid)) out.set(s.uuid, s);
  }
  return out;
}

export function backupRow(
  b: Backup,
  sibs: Map<string, ServiceInstanceBackup>,
  envSlug: string | null,
): BackupRowOut {
  const ids = (Array.isArray(b.service_instance_backups) ? b.service_instance_backups : [])
    .map((x) => idOf(x))
    .filter((x): x is string => x !== null);
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
    services: ids.flatMap((id) => {
      const s = sibs.get(id);
      return s ? [sibRow(s)] : [];
    }),
  };
  return { ...row, problem: backupProblem(row) };
}

export function renderBackup(b: BackupRowOut): string {
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
  output: z.object({
    app: z.string(),
    environment: z.string(),
    backups: z.array(BackupRow),
    note: z.string().nullable(),
    ...PageInfo,
  }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef, environment, limit, cursor }, ctx) => {
    const { app, env } = await resolveTarget(ctx, appRef, environment);
    const scope = { app: app.uuid, environment: env.uuid };
    // Newest first by `created` across pages, whichever order the API pages in (see client/order.ts).
    const page = await ctx.client.backups.newestFirst(
      { environment: env.uuid },
      { limit, cursor: cursor ? openLink(ctx, scope, cursor) : undefined, signal: ctx.signal },
    );
    const sibs = await loadServiceBackups(ctx.client, page.items, ctx.signal);
    const notes = [page.note, missingServicesNote(page.items, sibs)].filter((n): n is string => n !== null);
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      backups: page.items.map((b) => backupRow(b, sibs, env.slug)),
      note: notes.length > 0 ? notes.join(' ') : null,
      ...pageInfo(ctx, scope, page),
    };
  },
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
  output: BackupRow.extend({ environment_uuid: z.string().nullable(), note: z.string().nullable() }),
  annotations: READ_ONLY,
  handler: async ({ backup }, ctx) => {
    const b = await ctx.client.backups.get(backup, { signal: ctx.signal });
    const envId = idOf(b.environment);
    // Both need only the backup: read them at once.
    const [sibs, slug] = await Promise.all([
      loadServiceBackups(ctx.client, [b], ctx.signal),
      envSlugOf(ctx, envId),
    ]);
    return { ...backupRow(b, sibs, slug), environment_uuid: envId, note: missingServicesNote([b], sibs) };
  },
  render: (b) => `${renderBackup(b)}${b.note ? `\n${b.note}` : ''}`,
  links: (b) => [backupLink(b.uuid)],
});

const SERVICE_KINDS: Record<string, string> = {
  database: 'DATABASE',
  db: 'DATABASE',
  storage: 'STORAGE',
  media: 'STORAGE',
};

/** Picks the service instances a backup should cover: by kind (database, storage) or by prefix. */
export function pickServices(
  instances: readonly ServiceInstance[],
  wanted: readonly string[] | undefined,
): ServiceInstance[] {
  const backupable = instances.filter(
    (s) => (s.type === 'DATABASE' || s.type === 'STORAGE') && s.service_status !== 'NEW',
  );
  if (!wanted || wanted.length === 0) return backupable;
  const picked = new Map<string, ServiceInstance>();
  for (const w of wanted) {
    const kind = SERVICE_KINDS[w.toLowerCase()];
    const matches = kind
      ? backupable.filter((s) => s.type === kind)
      : backupable.filter((s) => String(s.prefix ?? '').toUpperCase() === w.toUpperCase());
    if (matches.length === 0) {
      const valid = backupable
        .map((s) => `${ident(String(s.type).toLowerCase())} (prefix ${ident(s.prefix)})`)
        .join(', ');
      throw new ToolError(
        `No backupable service matches ${quote(w)}. This environment has: ${valid || 'no provisioned database or storage'}. Pass database, storage, or one of those prefixes.`,
      );
    }
    for (const m of matches) picked.set(m.uuid, m);
  }
  return [...picked.values()];
}

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
    const services = pickServices(instances.items, args.services);
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
        const sibs = await loadServiceBackups(ctx.client, candidates, ctx.signal);
        return (
          candidates.find((b) =>
            (Array.isArray(b.service_instance_backups) ? b.service_instance_backups : []).every((id) => {
              const instance = sibs.get(idOf(id) ?? '')?.service_instance;
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
        : await loadServiceBackups(ctx.client, [outcome.state], ctx.signal).catch(() => new Map());
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
