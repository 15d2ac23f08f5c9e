import type { Application, Deployment, Environment, Page } from '../client/index.js';
import { type CursorScope, openCursor, signCursor } from '../mcp/cursor.js';
import type { ToolContext } from '../mcp/registry.js';
import { ident, inline } from '../text/index.js';

export interface Target {
  app: Application;
  env: Environment;
}

/** Resolves an app reference and an environment reference with the client's cached resolver. */
export async function resolveTarget(
  ctx: Pick<ToolContext, 'client' | 'signal'>,
  appRef: string,
  envRef: string,
): Promise<Target> {
  const app = await ctx.client.resolveApplication(appRef, ctx.signal);
  const env = await ctx.client.resolveEnvironment(app, envRef, ctx.signal);
  return { app, env };
}

/**
 * One page of this tool's list in `scope`: the first from `first()`, later ones by following the link a
 * cursor of this same tool and scope carries (same origin only, checked by the client).
 */
export async function onePage<T>(
  ctx: ToolContext,
  scope: CursorScope,
  cursor: string | undefined,
  first: () => Promise<Page<T>>,
): Promise<Page<T>> {
  if (cursor) return ctx.client.getPageByUrl<T>(openLink(ctx, scope, cursor), undefined, ctx.signal);
  return first();
}

/** The API link a cursor carries, once proven to come from this tool in this scope. */
export function openLink(ctx: ToolContext, scope: CursorScope, cursor: string): string {
  return openCursor(ctx.config.cursorKey, ctx.tool, scope, cursor);
}

/** has_more and a cursor for the link to the next page (`page.next` unless given), bound to this tool and scope. */
export function pageInfo(
  ctx: ToolContext,
  scope: CursorScope,
  page: { next?: string | null | undefined },
): { has_more: boolean; next_cursor: string | null } {
  const next = signCursor(ctx.config.cursorKey, ctx.tool, scope, page.next ?? null);
  return { has_more: next !== null, next_cursor: next };
}

/** Maps environment UUIDs of an app to slugs, for compact rows. */
export async function envSlugMap(ctx: ToolContext, app: Application): Promise<Map<string, string>> {
  const envs = await ctx.client.listEnvironmentsCached(app.uuid, ctx.signal);
  return new Map(envs.map((e) => [e.uuid, e.slug]));
}

/** An app and, when a reference is given, one of its environments. */
export async function resolveAppAndEnv(
  ctx: Pick<ToolContext, 'client' | 'signal'>,
  appRef: string,
  envRef: string | undefined,
): Promise<{ app: Application; env: Environment | undefined }> {
  const app = await ctx.client.resolveApplication(appRef, ctx.signal);
  const env = envRef ? await ctx.client.resolveEnvironment(app, envRef, ctx.signal) : undefined;
  return { app, env };
}

/** An environment's slug for display; null when it cannot be looked up (the ID is still shown). */
export async function envSlugOf(
  ctx: Pick<ToolContext, 'client' | 'signal'>,
  envId: string | null,
): Promise<string | null> {
  if (!envId) return null;
  try {
    return (await ctx.client.environments.get(envId, { signal: ctx.signal })).slug;
  } catch {
    return null;
  }
}

export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'uuid' in value && typeof value.uuid === 'string')
    return value.uuid;
  return null;
}

export type DeploymentSummary = {
  uuid: string;
  status: string | null;
  success: boolean | null;
  percent: number | null;
  started_at: string | null;
  ended_at: string | null;
  git_commit: string | null;
};

export function summariseDeployment(d: Partial<Deployment> | null | undefined): DeploymentSummary | null {
  if (!d || typeof d !== 'object' || typeof d.uuid !== 'string') return null;
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

const MAX_VARIABLE_NAMES = 300;

/**
 * Variable names from an `environment_variables` field: a list of names in environments and deployments (live
 * responses), a name -> value object on GetDeploymentEnvironmentVariables. Values are never read. Null when the
 * field is absent or has another shape.
 */
export function variableNames(value: unknown): string[] | null {
  let names: unknown[];
  if (Array.isArray(value))
    names = value.map((v) => (v && typeof v === 'object' && 'name' in v ? v.name : v));
  else if (value && typeof value === 'object') names = Object.keys(value);
  else return null;
  return names
    .filter((n): n is string => typeof n === 'string')
    .map((n) => inline(n, 120))
    .filter(Boolean)
    .slice(0, MAX_VARIABLE_NAMES);
}
