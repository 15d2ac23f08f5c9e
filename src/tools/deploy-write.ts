import * as z from 'zod';
import {
  DeployResult,
  deployEnvironment as deploy,
  stopEnvironment as stop,
} from '../domain/deploy-writes.js';
import { deploymentResult } from '../domain/deployments.js';
import { deployPreview, planDeploy } from '../domain/release.js';
import { planStop, StopResult, stopPreview } from '../domain/stop.js';
import { deploymentLogLink, envLink } from '../mcp/links.js';
import { effects } from '../mcp/outcome.js';
import { defineTool } from '../mcp/registry.js';
import { envName, fence, ident } from '../text/index.js';
import { AppRef, EnvRef, WaitSeconds } from './schemas.js';

export const deployEnvironment = defineTool({
  name: 'deploy_environment',
  title: 'Deploy environment',
  toolset: 'deploy',
  description:
    'Deploys an environment with progress, rolls back or promotes, or attaches to a running deploy; stop_environment stops. Returns the deployment and any failing log part. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    build_mode: z
      .enum(['AUTO', 'ADOPT', 'FORCE'])
      .default('AUTO')
      .describe('AUTO: build if new commits; ADOPT: last image; FORCE: rebuild'),
    from_deployment: z.string().optional().describe('Rollback: a deployment ID, or previous'),
    copy_from: EnvRef.optional().describe('Promote from'),
    wait_seconds: WaitSeconds,
  }),
  output: DeployResult,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  confirm: {
    preview: async (args, ctx) => deployPreview(ctx, await planDeploy(ctx, args), args.build_mode),
  },
  handler: (args, ctx) => deploy(ctx, args, effects(ctx), ctx.confirmation === 'no-write'),
  auditUuid: (out) => out.deployment.uuid,
  render: (out) =>
    [
      `${out.attached ? 'Attached to the running deployment' : 'Deployment'} ${ident(out.deployment.uuid)} of ${envName(out.app, out.environment)}: ${deploymentResult(out.deployment)}.`,
      out.source
        ? `It puts live again deployment ${ident(out.source.deployment.uuid)}${out.source.deployment.git_commit ? ` (commit ${ident(out.source.deployment.git_commit.slice(0, 10))})` : ''} of ${envName(out.app, out.source.environment)}; nothing was built.`
        : '',
      out.failure_excerpt ? fence('deploy log output', out.failure_excerpt.join('\n')) : '',
      out.next_step ?? '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [deploymentLogLink(out.deployment.uuid)],
});

export const stopEnvironment = defineTool({
  name: 'stop_environment',
  title: 'Stop environment',
  toolset: 'deploy',
  description:
    'Stops an environment until deploy_environment. Returns what stopped. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({ app: AppRef, environment: EnvRef }),
  output: StopResult,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  confirm: { preview: async (args, ctx) => stopPreview(await planStop(ctx, args.app, args.environment)) },
  handler: (args, ctx) => stop(ctx, args, effects(ctx)),
  auditUuid: (out) => out.stopped_deployment.uuid,
  render: (out) =>
    `${envName(out.app, out.environment)} ${out.stopped ? 'is stopped' : 'was asked to stop'}; deployment ${ident(out.stopped_deployment.uuid)} no longer serves${out.stopped ? '' : ' once it takes effect'}.\n${out.next_step}`,
  links: (out) => [envLink(out.app, out.environment)],
});
