import * as z from 'zod';
import type { Backup, DivioClient, ServiceInstance, ServiceInstanceBackup } from '../client/index.js';
import { backupLink, envLink } from '../resources/uris.js';
import { envSlugOf, idOf, onePage, pageInfo, resolveTarget } from './common.js';
import { ToolError } from './errors.js';
import { formatAge, formatBytes, formatDuration, oneLine, secondsBetween } from './format.js';
import { createdSince, performWrite, readAll } from './outcome.js';
import { defineTool, READ_ONLY } from './registry.js';
import { AppRef, Cursor, EnvRef, Limit, ObjectId, PageInfo, WaitSeconds } from './schemas.js';
import { stillRunning, waitForOperation } from './wait.js';

export const ServiceBackupRow = z.object({
  uuid: z.string(),
  type: z.string(),
  prefix: z.string(),
  size_bytes: z.number().nullable(),
  size: z.string(),
  seconds_taken: z.number().nullable(),
  taken_at: z.string().nullable(),
  errors: z.array(z.string()),
});

export const BackupRow = z.object({
  uuid: z.string(),
  environment: z.string().nullable(),
  created: z.string().nullable(),
  state: z.string(),
  success: z.string().nullable(),
  notes: z.string().nullable(),
  services: z.array(ServiceBackupRow),
});
export type BackupRowOut = z.infer<typeof BackupRow>;

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
    errors: Array.isArray(s.errors)
      ? s.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))
      : [],
  };
}

/** Loads the service-instance backups of several backups in one request (repeated `uuid` filter). */
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
    const page = await client.serviceInstanceBackups.list({ uuid: chunk, page_size: 100 }, { signal });
    for (const s of page.results) out.set(s.uuid, s);
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
  return {
    uuid: b.uuid,
    environment: envSlug,
    created: typeof b.created === 'string' ? b.created : null,
    state: String(b.state ?? 'UNKNOWN'),
    success: typeof b.success === 'string' ? b.success : null,
    notes: typeof b.notes === 'string' && b.notes ? oneLine(b.notes) : null,
    services: ids.flatMap((id) => {
      const s = sibs.get(id);
      return s ? [sibRow(s)] : [];
    }),
  };
}

export function renderBackup(b: BackupRowOut): string {
  const result = b.state === 'COMPLETED' ? (b.success ?? 'unknown result') : b.state;
  const services = b.services
    .map((s) => `${s.type.toLowerCase()} ${s.prefix}: ${s.size}, ${formatDuration(s.seconds_taken)}`)
    .join('; ');
  return `${b.uuid} ${b.environment ?? ''} ${b.created ?? '?'} (${formatAge(b.created)}): ${result}${services ? ` — ${services}` : ''}${b.notes ? ` — notes (user-written): ${JSON.stringify(b.notes)}` : ''}`;
}

const listBackups = defineTool({
  name: 'list_backups',
  title: 'List backups',
  toolset: 'backups',
  description:
    'Backups of an environment, newest first: state, result, size and time per service. Paginated.',
  input: z.strictObject({ app: AppRef, environment: EnvRef, limit: Limit, cursor: Cursor }),
  output: z.object({ app: z.string(), environment: z.string(), backups: z.array(BackupRow), ...PageInfo }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef, environment, limit, cursor }, ctx) => {
    const { app, env } = await resolveTarget(ctx, appRef, environment);
    const scope = { app: app.uuid, environment: env.uuid };
    const page = await onePage(ctx, scope, cursor, () =>
      ctx.client.backups.list({ environment: env.uuid, page_size: limit }, { signal: ctx.signal }),
    );
    const sibs = await loadServiceBackups(ctx.client, page.results, ctx.signal);
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      backups: page.results.map((b) => backupRow(b, sibs, env.slug)),
      ...pageInfo(ctx, scope, page),
    };
  },
  render: (out) =>
    [
      `Backups of ${out.app}/${out.environment}, newest first:`,
      ...out.backups.map((b) => `- ${renderBackup(b)}`),
      out.backups.length === 0 ? 'No backups.' : '',
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
  description: 'One backup with its service backups (type, size, time taken, errors).',
  input: z.strictObject({ backup: ObjectId('backup', 'list_backups or create_backup') }),
  output: BackupRow.extend({ environment_uuid: z.string().nullable() }),
  annotations: READ_ONLY,
  handler: async ({ backup }, ctx) => {
    const b = await ctx.client.backups.get(backup, { signal: ctx.signal });
    const sibs = await loadServiceBackups(ctx.client, [b], ctx.signal);
    const envId = idOf(b.environment);
    const slug = await envSlugOf(ctx, envId);
    return { ...backupRow(b, sibs, slug), environment_uuid: envId };
  },
  render: (b) => renderBackup(b),
  links: (b) => [
    {
      type: 'resource_link' as const,
      uri: `divio://backups/${b.uuid}`,
      name: `backup ${b.uuid.slice(0, 8)}`,
    },
  ],
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
      const valid = backupable.map((s) => `${String(s.type).toLowerCase()} (prefix ${s.prefix})`).join(', ');
      throw new ToolError(
        `No backupable service matches '${w}'. This environment has: ${valid || 'no provisioned database or storage'}. Pass database, storage, or one of those prefixes.`,
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
    "Back up an environment's database and/or storage, waiting with progress. If the wait ends first, follow it with get_backup.",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    services: z
      .array(z.string().min(1).max(64))
      .max(10)
      .optional()
      .describe('database, storage or prefixes; default all'),
    notes: z.string().max(255).optional().describe('Stored with the backup'),
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
    const instances = await ctx.client.serviceInstances.list(
      { environment: env.uuid, page_size: 100 },
      { signal: ctx.signal },
    );
    const services = pickServices(instances.results, args.services);
    if (services.length === 0) {
      throw new ToolError(`${app.slug}/${env.slug} has no provisioned database or storage to back up.`);
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
            `Call get_backup with backup=${row.uuid} to follow it; do not start another.`,
          ),
    };
  },
  render: (out) =>
    out.finished
      ? `Backup of ${out.app}/${out.environment} finished: ${renderBackup(out.backup)}`
      : `Backup of ${out.app}/${out.environment} started (${out.backup.uuid}), state ${out.backup.state}. ${out.next_step}`,
  links: (out) => [
    {
      type: 'resource_link' as const,
      uri: `divio://backups/${out.backup.uuid}`,
      name: `backup ${out.backup.uuid.slice(0, 8)}`,
    },
  ],
});

export const backupReadTools = [listBackups, getBackup, createBackup];
