import * as z from 'zod';
import type { Deployment, DeploymentListParams } from '../client/index.js';
import { capLinesFromEnd, secondsBetween } from '../text/format.js';
import { envName, ident, quote } from '../text/index.js';
import { type Api, onePage, type Pager, timeWindow } from './context.js';
import { failingExcerpt, logLines } from './deploylog.js';
import { ToolError } from './errors.js';
import { DeploymentSummary, PageInfo, PlatformText } from './shapes.js';
import { envSlugMap, envSlugOf, idOf, resolveAppAndEnv, resolveTarget } from './targets.js';

/** The summary of a deployment object the API returned, or null when `d` is not one (absent, or an ID only). */
export function summariseDeployment(d: unknown): DeploymentSummary | null {
  if (!d || typeof d !== 'object' || !('uuid' in d) || typeof d.uuid !== 'string') return null;
  return deploymentSummary(d as Partial<Deployment> & { uuid: string });
}

/** The summary of a deployment object the API returned (it always has a UUID). */
export function deploymentSummary(d: Partial<Deployment> & { uuid: string }): DeploymentSummary {
  return {
    uuid: d.uuid,
    status: typeof d.status === 'string' ? d.status : null,
    success: typeof d.success === 'boolean' ? d.success : null,
    percent: typeof d.percent === 'number' ? d.percent : null,
    started_at: typeof d.started_at === 'string' ? d.started_at : null,
    ended_at: typeof d.ended_at === 'string' ? d.ended_at : null,
    git_commit: typeof d.git_commit === 'string' ? d.git_commit : null,
  };
}

/**
 * A deployment's outcome, read from `success` alone: null = still running, true = succeeded, false = failed, as
 * Divio's `ci-cd.py` (divio/scripts) reads it; `divio_cli/cloud.py` also checks `success`, no longer `status`.
 * `status` names are not documented (a live response says `done`, the CLI once compared with `failure`), so
 * they are only ever shown as text.
 */
export function deploymentOutcome(d: Pick<DeploymentSummary, 'success'>): 'running' | 'succeeded' | 'failed' {
  if (d.success === null) return 'running';
  return d.success ? 'succeeded' : 'failed';
}

export function deploymentResult(d: DeploymentSummary | null): string {
  if (!d) return 'never deployed';
  const outcome = deploymentOutcome(d);
  if (outcome === 'running')
    return `running (${ident(d.status, 'in progress')}${d.percent !== null ? `, ${d.percent}%` : ''})`;
  return outcome === 'succeeded' ? 'succeeded' : `failed${d.status ? ` (${ident(d.status)})` : ''}`;
}

/**
 * The commit an environment runs, from `pending_commits_lookup`: a git range `<released commit>..<branch>` in a
 * live ListEnvironments response. Anything else (no release yet, a new format) gives null.
 */
export function releasedCommitOf(lookup: unknown): string | null {
  if (typeof lookup !== 'string') return null;
  const m = /^([0-9a-fA-F]{7,64})\.\.\S+$/.exec(lookup.trim());
  return m?.[1] ?? null;
}

export const DeploymentRow = DeploymentSummary.extend({
  environment: z.string().nullable(),
  duration_seconds: z.number().nullable(),
});
type DeploymentRow = z.infer<typeof DeploymentRow>;

function deploymentRow(d: Deployment, environment: string | null): DeploymentRow {
  return {
    ...deploymentSummary(d),
    environment,
    duration_seconds:
      typeof d.duration === 'number' ? Math.round(d.duration) : secondsBetween(d.started_at, d.ended_at),
  };
}

export const DeploymentCounts = z
  .object({
    total: z.number().nullable(),
    succeeded: z.number().nullable(),
    failed: z.number().nullable(),
    running: z.number().nullable(),
    /** True when the window held more deployments than were read: the counts are lower bounds. */
    capped: z.boolean(),
  })
  .describe(
    'Deployments matching every filter across all pages; on the first page only (null on later ones)',
  );
type DeploymentCounts = z.infer<typeof DeploymentCounts>;

export const DeploymentList = z.object({
  app: z.string(),
  deployments: z.array(DeploymentRow),
  counts: DeploymentCounts.nullable(),
  ...PageInfo,
});

export interface DeploymentQuery {
  app: string;
  environment?: string | undefined;
  limit: number;
  /** Only deployments started at or after this (ISO 8601 or a duration ago, e.g. 24h). */
  since?: string | undefined;
  /** Only deployments started before this (same forms). */
  until?: string | undefined;
  /** Only succeeded (true) or failed (false) ones: ListDeployments' `is_success`. */
  success?: boolean | undefined;
}

interface Window {
  since: number | undefined;
  until: number | undefined;
  success: boolean | undefined;
}

/** Pages skipped while they are all newer than `until`, and read to count a window. */
const WINDOW_PAGES = 5;

/** Whether a deployment started inside [since, until) and has the asked result (the API filter is checked). */
function matches(d: Deployment, w: Window): boolean {
  if (w.success !== undefined && d.success !== w.success) return false;
  if (w.since === undefined && w.until === undefined) return true;
  const t = Date.parse(String(d.started_at ?? ''));
  return (
    Number.isFinite(t) && (w.since === undefined || t >= w.since) && (w.until === undefined || t < w.until)
  );
}

/** The start time of the oldest deployment of a page (the list is newest first), or NaN. */
function oldest(results: readonly Deployment[]): number {
  return Date.parse(String(results[results.length - 1]?.started_at ?? ''));
}

/**
 * How many deployments match: without a time window from the API's `count` (with `is_success` true and false
 * for the split), within one by reading the list newest first until it leaves the window (at most WINDOW_PAGES
 * pages of 100; ListDeployments has no time filter).
 */
async function countDeployments(api: Api, query: DeploymentListParams, w: Window): Promise<DeploymentCounts> {
  if (w.since === undefined && w.until === undefined) {
    const count = async (is_success?: boolean) =>
      (await api.client.deployments.list({ ...query, is_success, page_size: 1 }, api)).count ?? null;
    if (w.success !== undefined) {
      const total = await count(w.success);
      return {
        total,
        succeeded: w.success ? total : 0,
        failed: w.success ? 0 : total,
        running: 0,
        capped: false,
      };
    }
    const [total, succeeded, failed] = await Promise.all([count(), count(true), count(false)]);
    const running =
      total !== null && succeeded !== null && failed !== null
        ? Math.max(0, total - succeeded - failed)
        : null;
    return { total, succeeded, failed, running, capped: false };
  }
  const counts = { total: 0, succeeded: 0, failed: 0, running: 0, capped: false };
  let page = await api.client.deployments.list({ ...query, page_size: 100 }, api);
  for (let n = 1; ; n++) {
    for (const d of page.results.filter((x) => matches(x, w))) {
      counts.total++;
      if (d.success === true) counts.succeeded++;
      else if (d.success === false) counts.failed++;
      else counts.running++;
    }
    if (!page.next || (w.since !== undefined && oldest(page.results) < w.since)) return counts;
    if (n >= WINDOW_PAGES) return { ...counts, capped: true };
    page = await api.client.getPageByUrl<Deployment>(page.next, undefined, api.signal);
  }
}

/**
 * Deployments of an app, or of one of its environments, one page, newest first as the API lists them. `success`
 * is the API's `is_success` filter; `since`/`until` are applied here (ListDeployments has no time filter): pages
 * wholly newer than `until` are skipped, and there is no more once a page reaches before `since`.
 */
export async function listDeployments(
  api: Api,
  args: DeploymentQuery,
  pager: Pager,
): Promise<z.infer<typeof DeploymentList>> {
  const { app, env } = await resolveAppAndEnv(api, args.app, args.environment);
  const { since, until } = timeWindow(api, args);
  const w: Window = { since: since?.getTime(), until: until?.getTime(), success: args.success };
  const filters = { since: args.since, until: args.until, success: args.success };
  const scope = { app: app.uuid, environment: env?.uuid, filters };
  const query: DeploymentListParams = {
    application: app.uuid,
    ...(env ? { environment: env.uuid } : {}),
    ...(args.success !== undefined ? { is_success: args.success } : {}),
  };
  const first = pager.open(scope) === undefined;
  const [slugs, counts, firstPage] = await Promise.all([
    envSlugMap(api, app),
    first ? countDeployments(api, query, w) : null,
    onePage(api, pager, scope, () => api.client.deployments.list({ ...query, page_size: args.limit }, api)),
  ]);
  let page = firstPage;
  for (
    let n = 1;
    w.until !== undefined && page.next && oldest(page.results) >= w.until && n < WINDOW_PAGES;
    n++
  )
    page = await api.client.getPageByUrl<Deployment>(page.next, undefined, api.signal);
  const done = w.since !== undefined && oldest(page.results) < w.since;
  return {
    app: app.slug,
    deployments: page.results
      .filter((d) => matches(d, w))
      .map((d) => {
        const envId = idOf(d.environment);
        return deploymentRow(d, envId ? (slugs.get(envId) ?? envId) : null);
      }),
    counts,
    ...pager.info(scope, done ? null : page.next),
  };
}

export const DeploymentDetail = DeploymentRow.extend({ environment_uuid: z.string().nullable() });

export async function getDeployment(api: Api, uuid: string): Promise<z.infer<typeof DeploymentDetail>> {
  const d = await api.client.deployments.get(uuid, api);
  const envId = idOf(d.environment);
  const envSlug = (await envSlugOf(api, envId)) ?? envId;
  const { duration_seconds, ...row } = deploymentRow(d, envSlug);
  return { ...row, environment_uuid: envId, duration_seconds };
}

export const DeploymentLog = z.object({
  deployment: z.string(),
  total_lines: z.number(),
  first_line_number: z.number(),
  lines: z.array(PlatformText('deploy log line')),
  failure_excerpt: z.array(PlatformText('deploy log line')).nullable(),
  note: z.string().nullable(),
});

export interface DeploymentLogQuery {
  deployment?: string | undefined;
  app?: string | undefined;
  environment?: string | undefined;
  tail: number;
  search?: string | undefined;
}

/** The deployment running now, else the last finished one, of an environment; throws when it has none. */
async function latestDeployment(api: Api, appRef: string, envRef: string): Promise<string> {
  const { env } = await resolveTarget(api, appRef, envRef);
  const detail = await api.client.environments.get(env.uuid, api);
  const latest = summariseDeployment(detail.currently_running_deployment ?? detail.last_finished_deployment);
  if (!latest)
    throw new ToolError(`${envName(appRef, env.slug)} has never been deployed, so it has no deploy log.`);
  return latest.uuid;
}

/** The build log of a deployment: the last `tail` lines (of those matching `search`), capped to `maxBytes`. */
export async function getDeploymentLog(
  api: Api,
  args: DeploymentLogQuery,
  maxBytes: number,
): Promise<z.infer<typeof DeploymentLog>> {
  if (!args.deployment && (!args.app || !args.environment)) {
    throw new ToolError('Pass deployment (an ID returned by list_deployments), or both app and environment.');
  }
  const uuid = args.deployment ?? (await latestDeployment(api, args.app ?? '', args.environment ?? ''));
  const [log, dep] = await Promise.all([
    api.client.deployments.logs(uuid, api),
    api.client.deployments.get(uuid, api),
  ]);
  const all = logLines(String(log.logs ?? ''));
  const numbered = all.map((l, i) => ({ n: i + 1, l }));
  const needle = args.search?.toLowerCase();
  const selected = needle ? numbered.filter((x) => x.l.toLowerCase().includes(needle)) : numbered;
  const tail = selected.slice(-args.tail);
  const { kept, dropped } = capLinesFromEnd(
    tail.map((x) => (needle ? `${x.n}: ${x.l}` : x.l)),
    maxBytes,
  );
  const firstShown = tail[tail.length - kept.length]?.n ?? all.length + 1;
  const excerpt = dep.success === false ? failingExcerpt(String(log.logs ?? '')) : null;
  // Only repeat the failing part when the lines shown do not already contain it.
  const showExcerpt = excerpt !== null && (needle !== undefined || excerpt.startLine < firstShown);
  const notes: string[] = [];
  if (dropped > 0)
    notes.push(`${dropped} more lines were cut to stay under the size cap; lower tail or use search.`);
  if (selected.length > tail.length)
    notes.push(`Showing the last ${tail.length} of ${selected.length} lines.`);
  if (needle && selected.length === 0) notes.push(`No line contains ${quote(args.search ?? '')}.`);
  return {
    deployment: uuid,
    total_lines: all.length,
    first_line_number: kept.length ? firstShown : 0,
    lines: kept,
    failure_excerpt: showExcerpt ? excerpt.lines : null,
    note: notes.join(' ') || null,
  };
}

/** The tail of a deployment's log, for the deployment-log resource: at most `tail` lines within `maxBytes`. */
export async function deploymentLogTail(
  api: Api,
  uuid: string,
  tail: number,
  maxBytes: number,
): Promise<{ lines: string[]; total: number; dropped: number }> {
  const log = await api.client.deployments.logs(uuid, api);
  const all = logLines(String(log.logs ?? ''));
  const { kept, dropped } = capLinesFromEnd(all.slice(-tail), maxBytes);
  return { lines: kept, total: all.length, dropped };
}
