import * as z from 'zod';
import type { Deployment } from '../client/index.js';
import { failingExcerpt } from '../domain/deploylog.js';
import { ToolError } from '../mcp/errors.js';
import { deploymentLogLink } from '../mcp/links.js';
import { createdSince, performWrite, readAll } from '../mcp/outcome.js';
import { defineTool, type ToolContext } from '../mcp/registry.js';
import { stillRunning, waitForOperation } from '../mcp/wait.js';
import { formatAge } from '../text/format.js';
import { envName, fence, ident, quote } from '../text/index.js';
import { deploymentResult, deploymentSummary, idOf, resolveTarget, summariseDeployment } from './common.js';
import { AppRef, DeploymentSummarySchema, EnvRef, WaitSeconds } from './schemas.js';

type BuildMode = 'AUTO' | 'ADOPT' | 'FORCE';

/** Starts a deployment once; a lost answer is settled by looking for the deployment it may have started. */
function startDeployment(
  ctx: ToolContext,
  where: string,
  env: { uuid: string; app: string; slug: string },
  buildMode: BuildMode,
  known: ReadonlySet<string>,
): Promise<Deployment> {
  return performWrite(ctx, {
    what: `the deploy of ${where}`,
    kind: 'deployment',
    send: () =>
      ctx.client.deployments.create({ environment: env.uuid, build_mode: buildMode }, { signal: ctx.signal }),
    handle: (d) => d.uuid,
    lookup: async (since) => {
      const all = await readAll(ctx, () =>
        ctx.client.deployments.list({ environment: env.uuid, page_size: 100 }, { signal: ctx.signal }),
      );
      // The list is filtered by environment; an item naming another one is not this write's.
      const mine = all.filter((d) => (idOf(d.environment) ?? env.uuid) === env.uuid && !known.has(d.uuid));
      return createdSince(mine, (d) => d.started_at, since)[0] ?? null;
    },
    checkWith: `list_deployments (app ${env.app}, environment ${env.slug})`,
    ifNotDone: `The previous release keeps serving. Call deploy_environment again to start it (that asks for confirmation again).`,
  });
}

export const deployEnvironment = defineTool({
  name: 'deploy_environment',
  title: 'Deploy environment',
  toolset: 'deploy',
  description:
    'Deploys an environment and waits with progress, or attaches to a running deploy; pending commits: get_environment. Returns the deployment, with the failing log part on failure. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    build_mode: z
      .enum(['AUTO', 'ADOPT', 'FORCE'])
      .default('AUTO')
      .describe('AUTO: build if new commits; ADOPT: last image; FORCE: rebuild'),
    wait_seconds: WaitSeconds,
  }),
  output: z.object({
    app: z.string(),
    environment: z.string(),
    attached: z.boolean(),
    finished: z.boolean(),
    deployment: DeploymentSummarySchema,
    failure_excerpt: z.array(z.string()).nullable(),
    next_step: z.string().nullable(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  confirm: {
    preview: async (args, ctx) => {
      const { app, env } = await resolveTarget(ctx, args.app, args.environment);
      const detail = await ctx.client.environments.get(env.uuid, { signal: ctx.signal });
      const running = summariseDeployment(detail.currently_running_deployment as never);
      const released = summariseDeployment(detail.currently_released_deployment as never);
      const last = summariseDeployment(detail.last_finished_deployment as never);
      const slug = String(app.slug ?? app.uuid);
      const target = {
        app: slug,
        environment: detail.slug,
        environmentUuid: detail.uuid,
        productionGrade: detail.is_production_grade === true,
      };
      if (running) {
        return {
          summary: `A deployment of ${envName(slug, detail.slug)} is already running; this attaches to it and waits. Nothing new is started.`,
          details: { Deployment: `${ident(running.uuid)} (${deploymentResult(running)})` },
          state: `running:${running.uuid}`,
          target,
          noWrite: true,
        };
      }
      return {
        // Platform values appear only quoted or as plain identifiers (src/text), and the branch, which git
        // lets hold almost anything, only on its own labelled line, never in the summary.
        summary: `Deploy ${envName(slug, detail.slug)}${target.productionGrade ? ' (PRODUCTION)' : ''} with build mode ${args.build_mode}.`,
        details: {
          Environment: `${envName(slug, detail.slug)}${target.productionGrade ? ' (production)' : ''}`,
          Branch: quote(detail.branch, 200, 'unknown'),
          'Build mode': args.build_mode,
          'Pending commits': String(detail.pending_commit_count ?? 'unknown'),
          'Currently released': released
            ? `${ident(released.uuid)}${released.git_commit ? ` (commit ${ident(released.git_commit.slice(0, 10))})` : ''}, ${formatAge(released.ended_at)}`
            : 'nothing',
          'Last deploy': last ? `${deploymentResult(last)}, ${formatAge(last.ended_at)}` : 'never',
        },
        // Any new deployment of this environment changes this, so a token can only start one.
        state: `env:${detail.uuid}|branch:${String(detail.branch ?? '')}|last:${last?.uuid ?? 'none'}`,
        target,
      };
    },
  },
  handler: async (args, ctx) => {
    const { app, env } = await resolveTarget(ctx, args.app, args.environment);
    const detail = await ctx.client.environments.get(env.uuid, { signal: ctx.signal });
    const running = summariseDeployment(detail.currently_running_deployment as never);
    if (!running && ctx.confirmation === 'no-write') {
      // The preview promised to attach to a running deploy; it has ended since, and starting a new one
      // was never confirmed.
      throw new ToolError(
        `The deployment of ${envName(app.slug, env.slug)} this call would have attached to has already finished. Nothing new was started. Check it with list_deployments, or call deploy_environment again to start a new deploy (that asks for confirmation).`,
      );
    }
    // Deployments that existed before this call can never be the one it started.
    const known = new Set(
      [detail.last_finished_deployment, detail.currently_released_deployment]
        .map((d) => summariseDeployment(d as never)?.uuid)
        .filter((u): u is string => typeof u === 'string'),
    );
    const slug = String(app.slug ?? app.uuid);
    const initial = running
      ? await ctx.client.deployments.get(running.uuid, { signal: ctx.signal })
      : await startDeployment(
          ctx,
          `${slug}/${env.slug}`,
          { uuid: env.uuid, app: slug, slug: env.slug },
          args.build_mode,
          known,
        );
    if (!running) ctx.client.invalidateCache();
    const outcome = await waitForOperation(
      {
        initial,
        poll: (signal) => ctx.client.deployments.get(initial.uuid, { signal }),
        // `success` stays null while the deployment runs; `status` names are not documented.
        isDone: (d) => typeof d.success === 'boolean',
        describe: (d) => ({
          progress: typeof d.percent === 'number' ? d.percent : 0,
          total: 100,
          message: `Deployment ${ident(d.status, 'in progress')}`,
        }),
        budgetSeconds: args.wait_seconds ?? ctx.config.defaultWaitSeconds,
      },
      ctx,
    );
    const summary = deploymentSummary(outcome.state);
    let excerpt: string[] | null = null;
    if (outcome.finished && summary.success === false) {
      // The deploy ran; a log that cannot be read now must not turn its result into an error.
      const log = await ctx.client.deployments.logs(summary.uuid, { signal: ctx.signal }).catch(() => null);
      excerpt = log ? failingExcerpt(String(log.logs ?? '')).lines : null;
    }
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      attached: running !== null,
      finished: outcome.finished,
      deployment: summary,
      failure_excerpt: excerpt,
      next_step: !outcome.finished
        ? stillRunning(
            outcome,
            `Call get_deployment with deployment=${ident(summary.uuid)} to follow it; do not deploy again.`,
          )
        : summary.success === false
          ? excerpt
            ? 'The deploy failed and the previous release keeps serving. Fix the cause shown, then deploy again; get_deployment_log has the full log.'
            : `The deploy failed and the previous release keeps serving. Its log could not be read just now: call get_deployment_log with deployment=${summary.uuid} for the cause before deploying again.`
          : null,
    };
  },
  auditUuid: (out) => out.deployment.uuid,
  render: (out) =>
    [
      `${out.attached ? 'Attached to the running deployment' : 'Deployment'} ${ident(out.deployment.uuid)} of ${envName(out.app, out.environment)}: ${deploymentResult(out.deployment)}.`,
      out.failure_excerpt ? fence('deploy log output', out.failure_excerpt.join('\n')) : '',
      out.next_step ?? '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [deploymentLogLink(out.deployment.uuid)],
});
