import * as z from 'zod';
import { ApiError, type Application, DivioError, type Environment } from '../client/index.js';
import { formatAge } from '../text/format.js';
import { envName, ident, inline, quote } from '../text/index.js';
import type { Api } from './context.js';
import { deploymentResult, summariseDeployment } from './deployments.js';
import { ToolError } from './errors.js';
import { DeploymentSummary, PlatformText } from './shapes.js';
import { idOf, resolveTarget } from './targets.js';

// What a deploy puts live: the head of the branch (a build), an earlier successful deployment's image
// (CreateDeployment `adopt_deployment`: a rollback) or another environment's release (`copy_from`: a promote),
// and which commits are waiting (GetRepositoryCommits over the environment's `pending_commits_lookup`).

/** At most this many pending commits are listed; the count says how many there are. */
export const PENDING_COMMITS_SHOWN = 10;

export const PendingCommit = z.object({
  sha: z.string(),
  message: PlatformText('commit message, first line'),
  author: PlatformText('commit author').nullable(),
  date: z.string().nullable(),
});
export type PendingCommit = z.infer<typeof PendingCommit>;

export interface PendingCommits {
  /** Newest first, at most PENDING_COMMITS_SHOWN; null when they could not be read. */
  commits: PendingCommit[] | null;
  /** Why the list is missing or shorter than the count; null when it is whole. */
  note: string | null;
}

/** The count of commits waiting on an environment's branch, from the environment object; null when unknown. */
export function pendingCount(detail: Environment): number | null {
  if (typeof detail.pending_commit_count === 'number') return detail.pending_commit_count;
  return detail.has_pending_commits === false ? 0 : null;
}

/** Why a read failed, from the error's kind only (no platform text), or the fixed wording of an inferred path. */
function unreadable(error: DivioError): string {
  // A 404/405 on an inferred path (GetRepositoryCommits) is explained in the client's fixed wording.
  if (error.code === 'operation_unavailable') return error.message.replace(/\.$/, '');
  if (error instanceof ApiError) return `Divio answered ${error.status}`;
  return 'Divio could not be reached';
}

/**
 * The commits waiting on an environment: those of its `pending_commits_lookup` range (`<released>..<branch>`),
 * newest first and capped. A failure to read them leaves the count standing and says why, never failing the call.
 */
export async function pendingCommits(
  api: Api,
  app: Pick<Application, 'repository'>,
  detail: Environment,
): Promise<PendingCommits> {
  const count = pendingCount(detail);
  if (count === 0) return { commits: [], note: null };
  const lookup = typeof detail.pending_commits_lookup === 'string' ? detail.pending_commits_lookup : '';
  if (!app.repository || lookup === '') {
    return { commits: null, note: 'The commit list is not available: nothing has been released here yet.' };
  }
  let listed: Awaited<ReturnType<typeof api.client.repositories.commits>>['commits'];
  try {
    listed = (await api.client.repositories.commits(app.repository, lookup, api)).commits;
  } catch (error) {
    if (!(error instanceof DivioError)) throw error;
    return { commits: null, note: `The commit list could not be read: ${unreadable(error)}.` };
  }
  const at = (d: string | null | undefined) => (d ? Date.parse(d) : Number.NaN);
  const commits = listed
    .filter((c) => typeof c.sha === 'string')
    .map((c) => ({
      sha: inline(String(c.sha), 64),
      message: inline(String(c.message ?? '').split('\n')[0] ?? '', 200),
      author: c.author_name || c.author_email ? inline(String(c.author_name || c.author_email), 100) : null,
      date: typeof c.date === 'string' ? c.date : null,
    }))
    .sort((a, b) => (at(b.date) || 0) - (at(a.date) || 0));
  const shown = commits.slice(0, PENDING_COMMITS_SHOWN);
  const more = commits.length - shown.length;
  return { commits: shown, note: more > 0 ? `${more} older pending commits are not listed.` : null };
}

/** One line per commit: short sha, quoted message, quoted author, age. */
export function commitLine(c: PendingCommit): string {
  return `${ident(c.sha.slice(0, 10))} ${quote(c.message, 120)} by ${quote(c.author, 80, 'unknown')}, ${formatAge(c.date)}`;
}

export const ReleaseSource = z.object({
  kind: z.enum(['rollback', 'promote']),
  deployment: DeploymentSummary,
  /** The environment the deployment ran on (its slug). */
  environment: z.string(),
});
export type ReleaseSource = z.infer<typeof ReleaseSource>;

export interface ReleaseRequest {
  /** A deployment ID, or "previous": the last successful deployment before the one serving now. */
  from_deployment?: string | undefined;
  /** Another environment of the same application whose release goes live here. */
  copy_from?: string | undefined;
}

export interface ReleasePlan {
  /** The CreateDeployment fields besides `environment`. */
  body: { adopt_deployment?: string; copy_from?: string };
  /** What goes live instead of a build of the branch; null for a plain deploy. */
  source: ReleaseSource | null;
}

const PREVIOUS_PAGES = 3;

/** The newest successful deployment of an environment that ended before `before` (any when null). */
async function lastSuccessBefore(
  api: Api,
  env: Environment,
  skip: string | null,
  before: string | null,
): Promise<ReturnType<typeof summariseDeployment>> {
  const limit = before ? Date.parse(before) : Number.POSITIVE_INFINITY;
  let page = await api.client.deployments.list(
    { environment: env.uuid, is_success: true, page_size: 50 },
    api,
  );
  for (let n = 1; ; n++) {
    // The filter is trusted no further than the items show: each must name this environment and have succeeded.
    const hit = page.results
      .map((d) => ({ d, s: summariseDeployment(d) }))
      .filter(
        ({ d, s }) =>
          s !== null &&
          s.success === true &&
          s.uuid !== skip &&
          (idOf(d.environment) ?? env.uuid) === env.uuid &&
          Date.parse(s.ended_at ?? s.started_at ?? '') < limit,
      )
      .sort((a, b) => Date.parse(b.s?.ended_at ?? '') - Date.parse(a.s?.ended_at ?? ''))[0];
    if (hit) return hit.s;
    if (!page.next || n >= PREVIOUS_PAGES) return null;
    page = await api.client.getPageByUrl(page.next, undefined, api.signal);
  }
}

/**
 * What a deploy of `target` (its detail) puts live. `from_deployment` adopts an earlier successful deployment of
 * the target (or of `copy_from`); "previous" picks the last successful one before the one serving now.
 * `copy_from` alone puts live what that environment serves. Refuses, with the next step, anything that cannot go
 * live: a failed or running deployment, one of another environment, an environment serving nothing.
 */
export async function planRelease(
  api: Api,
  app: Application,
  target: Environment,
  req: ReleaseRequest,
): Promise<ReleasePlan> {
  if (!req.from_deployment && !req.copy_from) return { body: {}, source: null };
  if (
    req.from_deployment &&
    req.from_deployment !== 'previous' &&
    !/^[A-Za-z0-9-]{20,40}$/.test(req.from_deployment)
  ) {
    throw new ToolError(
      'from_deployment takes a deployment ID as list_deployments returns it (success=true lists the ones that can go live), or "previous".',
    );
  }
  const from = req.copy_from ? await api.client.resolveEnvironment(app, req.copy_from, api.signal) : null;
  if (from && from.uuid === target.uuid) {
    throw new ToolError(
      `copy_from names ${envName(app.slug, target.slug)} itself. Pass another environment of ${ident(app.slug)} (e.g. test), or from_deployment to roll back.`,
    );
  }
  const on = from ? await api.client.environments.get(from.uuid, api) : target;
  const kind = from ? 'promote' : 'rollback';
  const serving = summariseDeployment(on.currently_released_deployment);
  const body = from ? { copy_from: from.uuid } : {};
  if (req.from_deployment === 'previous') {
    const prev = await lastSuccessBefore(api, on, serving?.uuid ?? null, serving?.started_at ?? null);
    if (!prev) {
      throw new ToolError(
        `No successful deployment of ${envName(app.slug, on.slug)} before the one serving now was found. Call list_deployments with success=true to see its history.`,
      );
    }
    return {
      body: { ...body, adopt_deployment: prev.uuid },
      source: { kind, deployment: prev, environment: on.slug },
    };
  }
  if (req.from_deployment) {
    const d = await api.client.deployments.get(req.from_deployment, api);
    const s = summariseDeployment(d);
    if (!s || (idOf(d.environment) ?? on.uuid) !== on.uuid) {
      throw new ToolError(
        `Deployment ${ident(req.from_deployment)} is not a deployment of ${envName(app.slug, on.slug)}. Call list_deployments (app ${ident(app.slug)}, environment ${ident(on.slug)}, success=true) for its deployments${from ? '' : ', or pass copy_from to take one from another environment'}.`,
      );
    }
    if (s.success !== true) {
      throw new ToolError(
        `Deployment ${ident(s.uuid)} ${deploymentResult(s)}, so it cannot go live again. Only a successful deployment can: call list_deployments with success=true, or pass from_deployment="previous".`,
      );
    }
    return {
      body: { ...body, adopt_deployment: s.uuid },
      source: { kind, deployment: s, environment: on.slug },
    };
  }
  if (!serving) {
    throw new ToolError(
      `${envName(app.slug, on.slug)} serves nothing (no released deployment), so there is nothing to copy from it. Deploy it first, or pick one of its deployments with from_deployment.`,
    );
  }
  return { body, source: { kind, deployment: serving, environment: on.slug } };
}

/**
 * What serves an environment when its last deploy failed: "the failed deploy never went live; X is still
 * serving" (or that nothing serves), or that it is stopped. Null otherwise.
 */
export function servingNote(detail: Environment): string | null {
  const last = summariseDeployment(detail.last_finished_deployment);
  const serving = summariseDeployment(detail.currently_released_deployment);
  if (!serving && last?.success === true) {
    // How a stopped environment shows is inferred (see stop.ts): a successful deployment, nothing released.
    return `Nothing is serving: the environment is stopped (its last deployment ${ident(last.uuid)} succeeded). deploy_environment starts it again.`;
  }
  if (last?.success !== false) return null;
  if (!serving) return `The last deploy (${ident(last.uuid)}) failed and nothing is serving.`;
  if (serving.uuid === last.uuid) return null;
  return `The failed deploy ${ident(last.uuid)} never went live; deployment ${ident(serving.uuid)}${serving.git_commit ? ` (commit ${ident(serving.git_commit.slice(0, 10))})` : ''} is still serving.`;
}

/** A deploy about to start: the environment as it is now and what the deploy puts live. */
export interface DeployPlan {
  app: Application;
  /** The environment's detail (GetEnvironment). */
  env: Environment;
  running: DeploymentSummary | null;
  released: DeploymentSummary | null;
  last: DeploymentSummary | null;
  release: ReleasePlan;
  /** Deployments that existed before the call: never the one it starts. */
  known: ReadonlySet<string>;
}

export interface DeployRequest extends ReleaseRequest {
  app: string;
  environment: string;
}

/** Resolves a deploy: the environment's state now and, unless a deploy is running, what it would put live. */
export async function planDeploy(api: Api, req: DeployRequest): Promise<DeployPlan> {
  const { app, env } = await resolveTarget(api, req.app, req.environment);
  const detail = await api.client.environments.get(env.uuid, api);
  const running = summariseDeployment(detail.currently_running_deployment);
  const released = summariseDeployment(detail.currently_released_deployment);
  const last = summariseDeployment(detail.last_finished_deployment);
  if (running && (req.from_deployment || req.copy_from)) {
    throw new ToolError(
      `A deployment of ${envName(app.slug, detail.slug)} is running (${ident(running.uuid)}). Wait for it with get_deployment before putting another deployment live.`,
    );
  }
  const release = running ? { body: {}, source: null } : await planRelease(api, app, detail, req);
  const known = new Set([last?.uuid, released?.uuid].filter((u): u is string => typeof u === 'string'));
  return { app, env: detail, running, released, last, release, known };
}

/** A deployment on one line: ID, commit, when it ended (or started). */
export function deploymentLine(d: DeploymentSummary): string {
  const when = d.ended_at ?? d.started_at;
  return `deployment ${ident(d.uuid)}${d.git_commit ? `, commit ${ident(d.git_commit.slice(0, 10))}` : ''}${when ? `, ran ${ident(when)} (${formatAge(when)})` : ''}`;
}

const PREVIEW_COMMITS = 5;

/**
 * What the person is shown before a deploy: exactly what goes live and what serves now. Platform values appear
 * only quoted or as plain identifiers, and the branch, which git lets hold almost anything, only on its own
 * labelled line (never in the summary). `state` changes with any new deployment, so a token starts one only.
 */
export async function deployPreview(api: Api, plan: DeployPlan, buildMode: string) {
  const { app, env, running, released, last, release } = plan;
  const where = envName(app.slug, env.slug);
  const production = env.is_production_grade === true;
  const target = {
    app: app.slug,
    environment: env.slug,
    environmentUuid: env.uuid,
    productionGrade: production,
  };
  if (running) {
    return {
      summary: `A deployment of ${where} is already running; this attaches to it and waits. Nothing new is started.`,
      details: { Deployment: `${ident(running.uuid)} (${deploymentResult(running)})` },
      state: `running:${running.uuid}`,
      target,
      noWrite: true,
    };
  }
  const serving = released ? deploymentLine(released) : 'nothing';
  const note = servingNote(env);
  const environment = `${where}${production ? ' (production)' : ''}`;
  const after = { 'Serving now': serving, ...(note ? { Note: note } : {}) };
  const state = `env:${env.uuid}|branch:${String(env.branch ?? '')}|last:${last?.uuid ?? 'none'}|source:${release.source?.deployment.uuid ?? 'build'}`;
  const source = release.source;
  if (source) {
    const verb = source.kind === 'rollback' ? 'Roll back' : 'Promote to';
    return {
      summary: `${verb} ${where}${production ? ' (PRODUCTION)' : ''}: an earlier deployment goes live again; nothing is built.`,
      details: {
        Environment: environment,
        ...after,
        'Goes live': deploymentLine(source.deployment),
        'From environment': envName(app.slug, source.environment),
        ...(released?.uuid === source.deployment.uuid ? { Also: 'This is the deployment serving now.' } : {}),
      },
      state,
      target,
    };
  }
  const pending = await pendingCommits(api, app, env);
  const count = pendingCount(env);
  const commits = Object.fromEntries(
    (pending.commits ?? []).slice(0, PREVIEW_COMMITS).map((c, i) => [`Commit ${i + 1}`, commitLine(c)]),
  );
  const shown = Object.keys(commits).length;
  return {
    summary: `Deploy ${where}${production ? ' (PRODUCTION)' : ''} with build mode ${buildMode}.`,
    details: {
      Environment: environment,
      Branch: quote(env.branch, 200, 'unknown'),
      'Build mode': buildMode,
      'Pending commits': `${count ?? 'unknown'}${count !== null && count > shown && shown > 0 ? ` (newest ${shown} below)` : ''}${pending.commits === null && pending.note ? `; ${pending.note}` : ''}`,
      ...commits,
      ...after,
      'Last deploy': last ? `${deploymentResult(last)}, ${formatAge(last.ended_at)}` : 'never',
    },
    state,
    target,
  };
}
