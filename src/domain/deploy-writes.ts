import * as z from 'zod';
import type { Deployment } from '../client/index.js';
import { envName, ident } from '../text/index.js';
import type { Api } from './context.js';
import { failingExcerpt } from './deploylog.js';
import { deploymentSummary } from './deployments.js';
import { createdSince, type Effects, readAll, stillRunning, type WaitOutcome } from './effects.js';
import { ToolError } from './errors.js';
import { type DeployPlan, type DeployRequest, planDeploy, ReleaseSource } from './release.js';
import { DeploymentSummary } from './shapes.js';
import { isStopped, planStop, type StopPlan, type StopResult, stopResult } from './stop.js';
import { idOf } from './targets.js';

// The deploy and stop writes: CreateDeployment (a build, a rollback with `adopt_deployment`, a promote with
// `copy_from`) and StopEnvironment, each sent once through the Effects port and settled like every write.

type BuildMode = 'AUTO' | 'ADOPT' | 'FORCE';

/** Starts a deployment once; a lost answer is settled by looking for the deployment it may have started. */
function startDeployment(api: Api, fx: Effects, plan: DeployPlan, buildMode: BuildMode): Promise<Deployment> {
  const { app, env, release, known } = plan;
  const body = release.source
    ? { environment: env.uuid, ...release.body }
    : { environment: env.uuid, build_mode: buildMode };
  return fx.write({
    what: `the deploy of ${app.slug}/${env.slug}`,
    kind: 'deployment',
    send: () => api.client.deployments.create(body, api),
    handle: (d) => d.uuid,
    lookup: async (since) => {
      const all = await readAll(api, () =>
        api.client.deployments.list({ environment: env.uuid, page_size: 100 }, api),
      );
      // The list is filtered by environment; an item naming another one is not this write's.
      const mine = all.filter((d) => (idOf(d.environment) ?? env.uuid) === env.uuid && !known.has(d.uuid));
      return createdSince(mine, (d) => d.started_at, since)[0] ?? null;
    },
    checkWith: `list_deployments (app ${app.slug}, environment ${env.slug})`,
    ifNotDone: `The previous release keeps serving. Call deploy_environment again to start it (that asks for confirmation again).`,
  });
}

export const DeployResult = z.object({
  app: z.string(),
  environment: z.string(),
  attached: z.boolean(),
  finished: z.boolean(),
  deployment: DeploymentSummary,
  /** Set for a rollback or promote: the earlier deployment whose image went live. */
  source: ReleaseSource.nullable(),
  failure_excerpt: z.array(z.string()).nullable(),
  next_step: z.string().nullable(),
});
type DeployResult = z.infer<typeof DeployResult>;

/** The answer: the deployment as the wait left it, and for a failure the failing part of its log. */
async function deployResult(
  api: Api,
  plan: DeployPlan,
  outcome: WaitOutcome<Deployment>,
): Promise<DeployResult> {
  const summary = deploymentSummary(outcome.state);
  let excerpt: string[] | null = null;
  if (outcome.finished && summary.success === false) {
    // The deploy ran; a log that cannot be read now must not turn its result into an error.
    const log = await api.client.deployments.logs(summary.uuid, api).catch(() => null);
    excerpt = log ? failingExcerpt(String(log.logs ?? '')).lines : null;
  }
  return {
    app: plan.app.slug,
    environment: plan.env.slug,
    attached: plan.running !== null,
    finished: outcome.finished,
    deployment: summary,
    source: plan.release.source,
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
}

export interface DeployArgs extends DeployRequest {
  build_mode: BuildMode;
  wait_seconds?: number | undefined;
}

/**
 * Deploys (or rolls back, or promotes) and waits with progress; attaches to a running deployment instead when
 * one runs. `attachOnly`: the confirmation promised that nothing new would start, so nothing does.
 */
export async function deployEnvironment(
  api: Api,
  args: DeployArgs,
  fx: Effects,
  attachOnly: boolean,
): Promise<DeployResult> {
  const plan = await planDeploy(api, args);
  if (!plan.running && attachOnly) {
    throw new ToolError(
      `The deployment of ${envName(plan.app.slug, plan.env.slug)} this call would have attached to has already finished. Nothing new was started. Check it with list_deployments, or call deploy_environment again to start a new deploy (that asks for confirmation).`,
    );
  }
  const initial = plan.running
    ? await api.client.deployments.get(plan.running.uuid, api)
    : await startDeployment(api, fx, plan, args.build_mode);
  if (!plan.running) api.client.invalidateCache();
  const outcome = await fx.wait(
    {
      initial,
      poll: (signal) => api.client.deployments.get(initial.uuid, { signal }),
      // `success` stays null while the deployment runs; `status` names are not documented.
      isDone: (d) => typeof d.success === 'boolean',
      describe: (d) => ({
        progress: typeof d.percent === 'number' ? d.percent : 0,
        total: 100,
        message: `Deployment ${ident(d.status, 'in progress')}`,
      }),
    },
    args.wait_seconds,
  );
  return deployResult(api, plan, outcome);
}

/** The stop, sent once; a lost answer is settled by whether the environment still shows its release. */
function sendStop(api: Api, fx: Effects, plan: StopPlan) {
  const where = `${plan.app.slug}/${plan.env.slug}`;
  return fx.write({
    what: `stopping ${where}`,
    kind: 'stopped environment',
    send: () => api.client.environments.stop(plan.env.uuid, api),
    handle: () => plan.env.uuid,
    lookup: async () => ((await isStopped(api, plan.env.uuid)) ? true : null),
    checkWith: `get_environment (app ${plan.app.slug}, environment ${plan.env.slug})`,
    ifNotDone: `${where} keeps serving. Call stop_environment again to stop it (that asks for confirmation again).`,
    // Divio accepts a stop (202) and carries it out afterwards.
    late: true,
  });
}

/** Stops an environment (StopEnvironment) and reports whether it shows as stopped yet. */
export async function stopEnvironment(
  api: Api,
  args: { app: string; environment: string },
  fx: Effects,
): Promise<z.infer<typeof StopResult>> {
  const plan = await planStop(api, args.app, args.environment);
  await sendStop(api, fx, plan);
  api.client.invalidateCache();
  return stopResult(plan, await isStopped(api, plan.env.uuid));
}
