import * as z from 'zod';
import {
  DeploymentDetail,
  DeploymentList,
  DeploymentLog,
  getDeployment as deploymentDetail,
  listDeployments as deploymentList,
  getDeploymentLog as deploymentLog,
  deploymentResult,
} from '../domain/deployments.js';
import { appLink, deploymentLogLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { formatDuration } from '../text/format.js';
import { fence, ident } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, EnvRef, Limit, ObjectId } from './schemas.js';

const TimeArg = z.string();

const listDeployments = defineTool({
  name: 'list_deployments',
  title: 'List deployments',
  toolset: 'deploy',
  description:
    'Lists deployments of an app or environment, newest first; one: get_deployment. Returns status, result, timing, commit, counts; paginated (next_cursor).',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef.optional().describe('Env slug or ID; omit for all'),
    since: TimeArg.optional().describe('ISO 8601 or ago: 24h'),
    until: TimeArg.optional().describe('Before; same forms'),
    success: z.boolean().optional().describe('Succeeded or failed only'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: DeploymentList,
  annotations: READ_ONLY,
  handler: (args, ctx) => deploymentList(ctx, args, pages(ctx, args.cursor)),
  render: (out) =>
    [
      `Deployments of ${ident(out.app)}, newest first:`,
      out.counts
        ? `${out.counts.capped ? 'At least ' : ''}${out.counts.total ?? '?'} match: ${out.counts.succeeded ?? '?'} succeeded, ${out.counts.failed ?? '?'} failed, ${out.counts.running ?? '?'} running.`
        : '',
      ...out.deployments.map(
        (d) =>
          `- ${ident(d.uuid)} ${ident(d.environment)}: ${deploymentResult(d)}, started ${ident(d.started_at)}, took ${formatDuration(d.duration_seconds)}${d.git_commit ? `, commit ${ident(d.git_commit.slice(0, 10))}` : ''}`,
      ),
      out.deployments.length === 0 ? 'No deployments.' : '',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [appLink(out.app), ...out.deployments.slice(0, 10).map((d) => deploymentLogLink(d.uuid))],
});

const getDeployment = defineTool({
  name: 'get_deployment',
  title: 'Get deployment',
  toolset: 'deploy',
  description:
    'Gets a deployment by ID; its log: get_deployment_log. Returns status, progress, timing, commit, result.',
  input: z.strictObject({ deployment: ObjectId('deployment', 'list_deployments') }),
  output: DeploymentDetail,
  annotations: READ_ONLY,
  handler: ({ deployment }, ctx) => deploymentDetail(ctx, deployment),
  render: (d) =>
    `Deployment ${ident(d.uuid)} of environment ${ident(d.environment)}: ${deploymentResult(d)}; started ${ident(d.started_at)}, ended ${ident(d.ended_at, 'not yet')}, took ${formatDuration(d.duration_seconds)}${d.git_commit ? `, commit ${ident(d.git_commit)}` : ''}.`,
  links: (d) => [deploymentLogLink(d.uuid)],
});

const getDeploymentLog = defineTool({
  name: 'get_deployment_log',
  title: 'Get deployment log',
  toolset: 'deploy',
  description:
    "Reads a deployment's build log, or an environment's latest; runtime logs: get_environment_logs. Returns the last tail lines or search matches, and the failing part; capped.",
  input: z.strictObject({
    deployment: ObjectId('deployment', 'list_deployments')
      .optional()
      .describe('ID from list_deployments; omit for the latest of app and environment'),
    app: AppRef.optional().describe('App slug or ID; with environment, instead of deployment'),
    environment: EnvRef.optional().describe('Env slug or ID; with app'),
    tail: z
      .number()
      .int()
      .min(1)
      .max(2000)
      .default(100)
      .describe('Last N lines (of the matches, with search)'),
    search: z.string().min(2).max(100).optional().describe('Only lines containing this text'),
  }),
  output: DeploymentLog,
  annotations: READ_ONLY,
  handler: (args, ctx) => deploymentLog(ctx, args, ctx.config.maxLogBytes),
  render: (out) =>
    [
      `Deploy log of ${ident(out.deployment)}: ${out.total_lines} lines in all${out.lines.length ? `, showing from line ${out.first_line_number}` : ''}.`,
      out.note ?? '',
      out.lines.length ? fence('deploy log output', out.lines.join('\n')) : '',
      out.failure_excerpt
        ? `The deployment failed. The failing part:\n${fence('deploy log output', out.failure_excerpt.join('\n'))}`
        : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [deploymentLogLink(out.deployment)],
});

export const deployReadTools = [listDeployments, getDeployment, getDeploymentLog];
