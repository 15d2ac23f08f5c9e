import * as z from 'zod';
import type { Application, Environment } from '../client/index.js';
import { envName, ident } from '../text/index.js';
import type { Api } from './context.js';
import { summariseDeployment } from './deployments.js';
import { ToolError } from './errors.js';
import { deploymentLine } from './release.js';
import { DeploymentSummary } from './shapes.js';
import { resolveTarget } from './targets.js';

// StopEnvironment ("Stops the running environment instances", API reference). Its path is inferred (see the
// client). How a stopped environment shows is not documented either: this reads it as nothing released
// (`currently_released_deployment` null), which a successful deployment ends (inferred).

export interface StopPlan {
  app: Application;
  /** The environment's detail (GetEnvironment). */
  env: Environment;
  /** The deployment serving now, which stops. */
  serving: DeploymentSummary;
}

/** Resolves a stop: refuses while a deployment runs or when nothing serves, saying what to do instead. */
export async function planStop(api: Api, appRef: string, envRef: string): Promise<StopPlan> {
  const { app, env } = await resolveTarget(api, appRef, envRef);
  const detail = await api.client.environments.get(env.uuid, api);
  const where = envName(app.slug, detail.slug);
  const running = summariseDeployment(detail.currently_running_deployment);
  if (running) {
    throw new ToolError(
      `A deployment of ${where} is running (${ident(running.uuid)}); stop it once it has finished (follow it with get_deployment). Nothing was stopped.`,
    );
  }
  const serving = summariseDeployment(detail.currently_released_deployment);
  if (!serving) {
    throw new ToolError(
      `${where} serves nothing (no released deployment): it is stopped or was never deployed, so there is nothing to stop. deploy_environment starts it.`,
    );
  }
  return { app, env: detail, serving };
}

/** The stop as the person is asked about it. */
export function stopPreview(plan: StopPlan) {
  const { app, env, serving } = plan;
  const production = env.is_production_grade === true;
  return {
    summary: `Stop ${envName(app.slug, env.slug)}${production ? ' (PRODUCTION)' : ''}: its instances stop and it serves nothing until it is deployed again.`,
    details: {
      Environment: `${envName(app.slug, env.slug)}${production ? ' (production)' : ''}`,
      Stops: deploymentLine(serving),
      'To start it again': `deploy_environment (from_deployment ${ident(serving.uuid)} puts the same deployment back without building)`,
    },
    state: `env:${env.uuid}|serving:${serving.uuid}`,
    target: {
      app: app.slug,
      environment: env.slug,
      environmentUuid: env.uuid,
      productionGrade: production,
    },
  };
}

/** Whether the environment shows as stopped: nothing released any more. */
export async function isStopped(api: Api, envUuid: string): Promise<boolean> {
  const detail = await api.client.environments.get(envUuid, api);
  return summariseDeployment(detail.currently_released_deployment) === null;
}

export const StopResult = z.object({
  app: z.string(),
  environment: z.string(),
  /** False when Divio accepted the stop but the environment still shows a release (it may take a moment). */
  stopped: z.boolean(),
  /** The deployment that served until the stop. */
  stopped_deployment: DeploymentSummary,
  next_step: z.string(),
});

export function stopResult(plan: StopPlan, stopped: boolean): z.infer<typeof StopResult> {
  const where = `app ${ident(plan.app.slug)}, environment ${ident(plan.env.slug)}`;
  return {
    app: plan.app.slug,
    environment: plan.env.slug,
    stopped,
    stopped_deployment: plan.serving,
    next_step: stopped
      ? `To start it again call deploy_environment (${where}); from_deployment=${plan.serving.uuid} puts the same deployment back without building.`
      : `Divio accepted the stop, but the environment still shows deployment ${ident(plan.serving.uuid)} as released. Check with get_environment (${where}) in a minute; do not stop it again.`,
  };
}
