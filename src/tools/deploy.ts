import * as z from 'zod';
import { failingExcerpt, logLines } from '../domain/deploylog.js';
import { ToolError } from '../mcp/errors.js';
import { appLink, deploymentLogLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { capLinesFromEnd, formatDuration, secondsBetween } from '../text/format.js';
import { envName, fence, ident, quote } from '../text/index.js';
import {
  deploymentResult,
  deploymentSummary,
  envSlugMap,
  envSlugOf,
  idOf,
  onePage,
  pageInfo,
  resolveAppAndEnv,
  resolveTarget,
  summariseDeployment,
} from './common.js';
import {
  AppRef,
  Cursor,
  DeploymentSummarySchema,
  EnvRef,
  Limit,
  ObjectId,
  PageInfo,
  PlatformText,
} from './schemas.js';

const DeploymentRow = DeploymentSummarySchema.extend({
  environment: z.string().nullable(),
  duration_seconds: z.number().nullable(),
});

const listDeployments = defineTool({
  name: 'list_deployments',
  title: 'List deployments',
  toolset: 'deploy',
  description:
    'Lists deployments of an app or environment, newest first; one: get_deployment. Returns status, result, timing, commit; paginated (next_cursor).',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef.optional().describe('Environment slug or ID; omit for all'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: z.object({ app: z.string(), deployments: z.array(DeploymentRow), ...PageInfo }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef, environment, limit, cursor }, ctx) => {
    const { app, env } = await resolveAppAndEnv(ctx, appRef, environment);
    const scope = { app: app.uuid, environment: env?.uuid };
    const [slugs, page] = await Promise.all([
      envSlugMap(ctx, app),
      onePage(ctx, scope, cursor, () =>
        ctx.client.deployments.list(
          { application: app.uuid, ...(env ? { environment: env.uuid } : {}), page_size: limit },
          { signal: ctx.signal },
        ),
      ),
    ]);
    return {
      app: String(app.slug ?? app.uuid),
      deployments: page.results.map((d) => {
        const envId = idOf(d.environment);
        return {
          ...deploymentSummary(d),
          environment: envId ? (slugs.get(envId) ?? envId) : null,
          duration_seconds:
            typeof d.duration === 'number'
              ? Math.round(d.duration)
              : secondsBetween(d.started_at, d.ended_at),
        };
      }),
      ...pageInfo(ctx, scope, page),
    };
  },
  render: (out) =>
    [
      `Deployments of ${ident(out.app)}, newest first:`,
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
    'Gets one deployment by ID from list_deployments; its log: get_deployment_log. Returns status, progress, timing, commit, result.',
  input: z.strictObject({ deployment: ObjectId('deployment', 'list_deployments') }),
  output: DeploymentRow.extend({ environment_uuid: z.string().nullable() }),
  annotations: READ_ONLY,
  handler: async ({ deployment }, ctx) => {
    const d = await ctx.client.deployments.get(deployment, { signal: ctx.signal });
    const s = deploymentSummary(d);
    const envId = idOf(d.environment);
    const envSlug = (await envSlugOf(ctx, envId)) ?? envId;
    return {
      ...s,
      environment: envSlug,
      environment_uuid: envId,
      duration_seconds:
        typeof d.duration === 'number' ? Math.round(d.duration) : secondsBetween(d.started_at, d.ended_at),
    };
  },
  render: (d) =>
    `Deployment ${ident(d.uuid)} of environment ${ident(d.environment)}: ${deploymentResult(d)}; started ${ident(d.started_at)}, ended ${ident(d.ended_at, 'not yet')}, took ${formatDuration(d.duration_seconds)}${d.git_commit ? `, commit ${ident(d.git_commit)}` : ''}.`,
  links: (d) => [deploymentLogLink(d.uuid)],
});

const getDeploymentLog = defineTool({
  name: 'get_deployment_log',
  title: 'Get deployment log',
  toolset: 'deploy',
  description:
    "Reads the build log of a deployment or an environment's latest; runtime logs: get_environment_logs. Returns the last tail lines or search matches, and the failing part; capped.",
  input: z.strictObject({
    deployment: ObjectId('deployment', 'list_deployments')
      .optional()
      .describe('ID from list_deployments; omit for the latest of app and environment'),
    app: AppRef.optional().describe('App slug or ID; with environment, instead of deployment'),
    environment: EnvRef.optional().describe('Environment slug or ID; with app'),
    tail: z
      .number()
      .int()
      .min(1)
      .max(2000)
      .default(100)
      .describe('Last N lines (of the matches, with search)'),
    search: z.string().min(2).max(100).optional().describe('Only lines containing this text'),
  }),
  output: z.object({
    deployment: z.string(),
    total_lines: z.number(),
    first_line_number: z.number(),
    lines: z.array(PlatformText('deploy log line')),
    failure_excerpt: z.array(PlatformText('deploy log line')).nullable(),
    note: z.string().nullable(),
  }),
  annotations: READ_ONLY,
  handler: async (args, ctx) => {
    let uuid = args.deployment;
    if (!uuid) {
      if (!args.app || !args.environment) {
        throw new ToolError(
          'Pass deployment (an ID returned by list_deployments), or both app and environment.',
        );
      }
      const { env } = await resolveTarget(ctx, args.app, args.environment);
      const detail = await ctx.client.environments.get(env.uuid, { signal: ctx.signal });
      const latest = summariseDeployment(
        (detail.currently_running_deployment ?? detail.last_finished_deployment) as never,
      );
      if (!latest)
        throw new ToolError(
          `${envName(args.app, env.slug)} has never been deployed, so it has no deploy log.`,
        );
      uuid = latest.uuid;
    }
    const [log, dep] = await Promise.all([
      ctx.client.deployments.logs(uuid, { signal: ctx.signal }),
      ctx.client.deployments.get(uuid, { signal: ctx.signal }),
    ]);
    const all = logLines(String(log.logs ?? ''));
    const numbered = all.map((l, i) => ({ n: i + 1, l }));
    const needle = args.search?.toLowerCase();
    const selected = needle ? numbered.filter((x) => x.l.toLowerCase().includes(needle)) : numbered;
    const tail = selected.slice(-args.tail);
    const { kept, dropped } = capLinesFromEnd(
      tail.map((x) => (needle ? `${x.n}: ${x.l}` : x.l)),
      ctx.config.maxLogBytes,
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
  },
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
