import * as z from 'zod';
import type { Application, DivioClient, Environment } from '../client/index.js';
import { envName, inline } from '../text/index.js';
import { errorEvents } from './log-analysis.js';

// One row per environment across the applications a token sees: the answer to "which of my apps have a
// problem right now" in one call. Every API call goes through one limiter, so a large fleet is read in
// parallel without more than `concurrency` requests in flight; past `maxEnvironments` the rest is left out
// and the answer says so.

/** Runs at most `max` tasks at once; a finished task hands its slot straight to the next in line. */
export function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

export const FLEET_CONCURRENCY = 6;
export const FLEET_MAX_ENVIRONMENTS = 40;
const MAX_APPLICATIONS = 100;
const LOG_SCAN = 1000;
const BACKUPS_SCANNED = 20;
const ERRORS_FAILING = 20;
/** Fewer error events than this in the window are counted in the row but not called a problem. */
const ERRORS_NOTABLE = 5;
const BACKUP_STALE_MS = 7 * 86_400_000;

const Severity = z.enum(['error', 'warning']);

export const FleetRow = z.object({
  app: z.string(),
  environment: z.string(),
  production_grade: z.boolean(),
  status: z.enum(['failing', 'degraded', 'healthy', 'unknown']),
  problems: z.array(z.object({ severity: Severity, message: z.string() })),
  last_deploy: z.object({
    result: z.enum(['succeeded', 'failed', 'running', 'never', 'unknown']),
    uuid: z.string().nullable(),
    ended_at: z.string().nullable(),
    /** False for a failed deployment that never went live while an older one still serves. */
    live: z.boolean().nullable(),
  }),
  serving_deployment: z.string().nullable(),
  errors: z
    .object({ count: z.number(), at_least: z.boolean() })
    .nullable()
    .describe('Error events in the window; at_least when the scan stopped at its cap; null if unreadable'),
  last_successful_backup: z
    .object({ uuid: z.string(), created: z.string().nullable(), age_hours: z.number().nullable() })
    .nullable(),
  unprovisioned_services: z.array(z.string()),
  unreadable: z.array(z.string()).describe('What could not be read for this environment, and why'),
});
export type FleetRowOut = z.infer<typeof FleetRow>;

export const FleetOverview = z.object({
  organisation: z.string().nullable(),
  window_start: z.string(),
  environments_total: z.number(),
  findings: z.array(z.object({ severity: Severity, environment: z.string(), message: z.string() })),
  rows: z.array(FleetRow),
  note: z.string().nullable(),
});
export type FleetOverviewOut = z.infer<typeof FleetOverview>;

export interface FleetOptions {
  /** An organisation ID to narrow to (already resolved from a name). */
  organisation?: { uuid: string; name: string } | undefined;
  since: Date;
  now: number;
  signal: AbortSignal;
  concurrency?: number;
  maxEnvironments?: number;
}

type Summary = { uuid: string; success: unknown; ended_at: unknown };
const summary = (d: unknown): Summary | null =>
  d && typeof d === 'object' && typeof (d as { uuid?: unknown }).uuid === 'string' ? (d as Summary) : null;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const reason = (what: string, error: unknown) =>
  `${what}: ${inline(error instanceof Error ? error.message : String(error), 200)}`;

export async function fleetOverview(client: DivioClient, o: FleetOptions): Promise<FleetOverviewOut> {
  const run = limiter(o.concurrency ?? FLEET_CONCURRENCY);
  const max = o.maxEnvironments ?? FLEET_MAX_ENVIRONMENTS;
  const { signal } = o;

  const apps: Application[] = [];
  let moreApps = false;
  for await (const app of client.applications.iterate(
    { page_size: 100, ...(o.organisation ? { organisation: o.organisation.uuid } : {}) },
    { signal },
  )) {
    if (apps.length >= MAX_APPLICATIONS) {
      moreApps = true;
      break;
    }
    apps.push(app);
  }
  const envLists = await Promise.all(
    apps.map((app) =>
      run(() => client.listEnvironmentsCached(app.uuid, signal)).then((envs) => ({ app, envs })),
    ),
  );
  const all = envLists
    .flatMap(({ app, envs }) => envs.map((env) => ({ app, env })))
    .sort((a, b) => `${a.app.slug}/${a.env.slug}`.localeCompare(`${b.app.slug}/${b.env.slug}`));
  const picked = all.slice(0, max);
  const rows = await Promise.all(picked.map(({ app, env }) => environmentRow(client, run, app, env, o)));
  const rank = { failing: 0, degraded: 1, unknown: 2, healthy: 3 } as const;
  rows.sort((a, b) => rank[a.status] - rank[b.status]);
  const findings = rows.flatMap((r) =>
    r.problems.map((p) => ({ ...p, environment: envName(r.app, r.environment) })),
  );
  findings.sort((a, b) => Number(a.severity !== 'error') - Number(b.severity !== 'error'));
  const notes: string[] = [];
  if (all.length > picked.length)
    notes.push(
      `${all.length} environments in all; only the first ${picked.length} (by app and environment) were read. Pass organisation to narrow, or diagnose_environment for one.`,
    );
  if (moreApps) notes.push(`Only the first ${MAX_APPLICATIONS} applications were read.`);
  return {
    organisation: o.organisation?.name ?? null,
    window_start: o.since.toISOString(),
    environments_total: all.length,
    findings,
    rows,
    note: notes.length ? notes.join(' ') : null,
  };
}

async function environmentRow(
  client: DivioClient,
  run: ReturnType<typeof limiter>,
  app: Application,
  env: Environment,
  o: FleetOptions,
): Promise<FleetRowOut> {
  const { signal } = o;
  const unreadable: string[] = [];
  const attempt = <T>(what: string, task: () => Promise<T>): Promise<T | null> =>
    run(task).catch((error: unknown) => {
      if (signal.aborted) throw error;
      unreadable.push(reason(what, error));
      return null;
    });
  const [detail, logs, backups, services] = await Promise.all([
    attempt('environment', () => client.environments.get(env.uuid, { signal })),
    attempt('runtime logs', () =>
      client.environments.logs(env.uuid, { from_ts: o.since.toISOString(), limit: LOG_SCAN }, { signal }),
    ),
    attempt('backups', () =>
      client.backups.newestFirst({ environment: env.uuid }, { limit: BACKUPS_SCANNED, signal }),
    ),
    attempt('service instances', () => client.serviceInstances.all({ environment: env.uuid }, { signal })),
  ]);
  const problems: FleetRowOut['problems'] = [];

  const last = summary(detail?.last_finished_deployment);
  const released = summary(detail?.currently_released_deployment);
  const running = summary(detail?.currently_running_deployment);
  const result: FleetRowOut['last_deploy']['result'] = !detail
    ? 'unknown'
    : running && !last
      ? 'running'
      : !last
        ? 'never'
        : last.success === true
          ? 'succeeded'
          : last.success === false
            ? 'failed'
            : 'running';
  const live = last ? (released ? released.uuid === last.uuid : last.success === true) : null;
  if (result === 'failed' && last) {
    problems.push({
      severity: 'error',
      message: `Last deployment ${last.uuid} failed${str(last.ended_at) ? ` (ended ${str(last.ended_at)})` : ''}${released && !live ? `; it never went live, ${released.uuid} is still serving` : ''}.`,
    });
  }

  let errors: FleetRowOut['errors'] = null;
  if (logs) {
    const lines = logs.results.map((e) => ({
      timestamp: String(e.timestamp ?? ''),
      service: String(e.service ?? ''),
      message: String(e.message ?? ''),
    }));
    errors = { count: errorEvents(lines).length, at_least: logs.results.length >= LOG_SCAN };
    if (errors.count >= ERRORS_NOTABLE) {
      problems.push({
        severity: errors.count >= ERRORS_FAILING ? 'error' : 'warning',
        message: `${errors.at_least ? 'At least ' : ''}${errors.count} error events in the runtime logs since ${o.since.toISOString()}.`,
      });
    }
  }

  let lastBackup: FleetRowOut['last_successful_backup'] = null;
  if (backups) {
    const ok = backups.items.find((b) => b.state === 'COMPLETED' && b.success === 'SUCCESS');
    if (ok) {
      const created = str(ok.created);
      const t = created ? Date.parse(created) : Number.NaN;
      lastBackup = {
        uuid: ok.uuid,
        created,
        age_hours: Number.isFinite(t) ? Math.max(0, Math.round((o.now - t) / 360_000) / 10) : null,
      };
      if (Number.isFinite(t) && o.now - t > BACKUP_STALE_MS)
        problems.push({ severity: 'warning', message: `The last successful backup is from ${created}.` });
    } else {
      problems.push({
        severity: env.is_production_grade === true ? 'error' : 'warning',
        message: `No successful backup among the newest ${backups.items.length}.`,
      });
    }
  }

  const unprovisioned = (services?.items ?? [])
    .filter((s) => s.service_status === 'NEW')
    .map((s) => `${String(s.type ?? 'UNKNOWN')} ${String(s.prefix ?? '')}`.trim());
  for (const s of unprovisioned)
    problems.push({ severity: 'warning', message: `Service ${s} is not provisioned (status NEW).` });

  const status: FleetRowOut['status'] = problems.some((p) => p.severity === 'error')
    ? 'failing'
    : problems.length > 0
      ? 'degraded'
      : unreadable.length > 0
        ? 'unknown'
        : 'healthy';
  return {
    app: app.slug,
    environment: env.slug,
    production_grade: env.is_production_grade === true,
    status,
    problems,
    last_deploy: { result, uuid: last?.uuid ?? null, ended_at: str(last?.ended_at), live },
    serving_deployment: released?.uuid ?? null,
    errors,
    last_successful_backup: lastBackup,
    unprovisioned_services: unprovisioned,
    unreadable,
  };
}
