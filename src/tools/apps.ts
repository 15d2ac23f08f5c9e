import * as z from 'zod';
import { type Environment, looksLikeId, WHOLE_LIST_MAX_PAGES } from '../client/index.js';
import { ToolError } from '../mcp/errors.js';
import { appLink, envLink, logsLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, ident, quote, quoteList } from '../text/index.js';
import {
  type DeploymentSummary,
  deploymentResult,
  idOf,
  onePage,
  pageInfo,
  releasedCommitOf,
  resolveTarget,
  summariseDeployment,
  variableNames,
} from './common.js';
import {
  AppRef,
  Cursor,
  copied,
  DeploymentSummarySchema,
  EnvRef,
  Limit,
  PageInfo,
  PlatformText,
} from './schemas.js';

const listOrganisations = defineTool({
  name: 'list_organisations',
  title: 'List organisations',
  toolset: 'apps',
  description:
    'Lists the organisations the API token can see; only needed to filter list_applications. Returns name, uuid; paginated (next_cursor).',
  input: z.strictObject({ limit: Limit, cursor: Cursor }),
  output: z.object({
    organisations: z.array(z.object({ uuid: z.string(), name: PlatformText('organisation name') })),
    ...PageInfo,
  }),
  annotations: READ_ONLY,
  handler: async ({ limit, cursor }, ctx) => {
    const page = await onePage(ctx, {}, cursor, () =>
      ctx.client.organisations.list({ page_size: limit }, { signal: ctx.signal }),
    );
    return {
      organisations: page.results.map((o) => ({ uuid: o.uuid, name: String(o.name ?? '') })),
      ...pageInfo(ctx, {}, page),
    };
  },
  render: (out) =>
    [
      ...out.organisations.map((o) => `${quote(o.name)} (${ident(o.uuid)})`),
      out.organisations.length === 0 ? 'No organisations visible to this token.' : '',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
});

const listApplications = defineTool({
  name: 'list_applications',
  title: 'List applications',
  toolset: 'apps',
  description:
    "Lists applications, by organisation or name; an app's environments: get_application. Returns slug, name, uuid, organisation; paginated (next_cursor).",
  input: z.strictObject({
    organisation: copied(200, 'an organisation name or ID')
      .optional()
      .describe('Organisation name (exact) or ID'),
    name: z.string().min(1).max(100).optional().describe('Part of the app name'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: z.object({
    applications: z.array(
      z.object({
        slug: z.string(),
        name: PlatformText('application name'),
        uuid: z.string(),
        organisation: PlatformText('organisation name or ID').nullable(),
      }),
    ),
    ...PageInfo,
  }),
  annotations: READ_ONLY,
  handler: async ({ organisation, name, limit, cursor }, ctx) => {
    const listPage = (orgFilter: string | undefined) =>
      onePage(ctx, { filters: { organisation: orgFilter, name } }, cursor, () =>
        ctx.client.applications.list(
          {
            page_size: limit,
            ...(orgFilter ? { organisation: orgFilter } : {}),
            ...(name ? { name_search: name } : {}),
          },
          { signal: ctx.signal },
        ),
      );
    // Without an organisation filter the page does not depend on the organisations: read both at once.
    const [orgList, unfiltered] = await Promise.all([
      ctx.client.organisations.all({ signal: ctx.signal }),
      organisation ? undefined : listPage(undefined),
    ]);
    const orgs = new Map(orgList.items.map((o) => [o.uuid, String(o.name ?? '')]));
    let orgFilter: string | undefined;
    if (organisation) {
      // An exact ID or an exact (case-insensitive) name, whichever hits; an ID-shaped value that is on no
      // listed organisation goes to the API verbatim (the listing above may stop at its page cap).
      const byName = [...orgs]
        .filter(([, n]) => n.toLowerCase() === organisation.toLowerCase())
        .map(([id]) => id);
      const byId = orgs.has(organisation) ? organisation : undefined;
      const hits = [...new Set([...(byId ? [byId] : []), ...byName])];
      if (hits.length > 1) {
        throw new ToolError(
          `Organisation ${quote(organisation)} is ambiguous: it matches the organisations with IDs ${hits.map((x) => ident(x)).join(', ')}. Pass one of those IDs; ask the user which one they mean.`,
        );
      }
      orgFilter = hits[0] ?? (looksLikeId(organisation) ? organisation : undefined);
      if (!orgFilter) {
        throw new ToolError(
          `Organisation ${quote(organisation)} was not found. Valid organisations: ${quoteList([...orgs.values()]) || 'none'}. Pass a name from that list or an ID returned by list_organisations.${orgList.complete ? '' : ` Only the first ${orgs.size} organisations were read; pass the organisation's ID instead.`}`,
        );
      }
    }
    const page = unfiltered ?? (await listPage(orgFilter));
    return {
      applications: page.results.map((a) => {
        const org = idOf(a.organisation);
        return {
          slug: String(a.slug ?? ''),
          name: String(a.name ?? ''),
          uuid: a.uuid,
          organisation: org ? (orgs.get(org) ?? org) : null,
        };
      }),
      ...pageInfo(ctx, { filters: { organisation: orgFilter, name } }, page),
    };
  },
  render: (out) =>
    [
      ...out.applications.map(
        (a) =>
          `${ident(a.slug)} — ${quote(a.name)} [organisation ${quote(a.organisation, 200, 'none')}] ${ident(a.uuid)}`,
      ),
      out.applications.length === 0 ? 'No applications match.' : '',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => out.applications.slice(0, 20).map((a) => appLink(a.slug, a.name)),
});

const EnvRow = z.object({
  slug: z.string(),
  uuid: z.string(),
  branch: PlatformText('git branch').nullable(),
  url: PlatformText('deployed URL').nullable(),
  production_grade: z.boolean(),
  last_deployment: DeploymentSummarySchema.nullable(),
  deploy_running: z.boolean(),
});

function envRow(env: Environment): z.infer<typeof EnvRow> {
  const running = summariseDeployment(env.currently_running_deployment as never);
  return {
    slug: env.slug,
    uuid: env.uuid,
    branch: typeof env.branch === 'string' ? env.branch : null,
    url: typeof env.deployed_url === 'string' ? env.deployed_url : null,
    production_grade: env.is_production_grade === true,
    last_deployment: summariseDeployment(env.last_finished_deployment as never),
    deploy_running: running !== null,
  };
}

const getApplication = defineTool({
  name: 'get_application',
  title: 'Get application',
  toolset: 'apps',
  description:
    "Gets an application and its environments; one environment's status: get_environment. Returns per environment: slug, branch, URL, last deployment.",
  input: z.strictObject({ app: AppRef }),
  output: z.object({
    uuid: z.string(),
    slug: z.string(),
    name: PlatformText('application name'),
    organisation: z.string().nullable(),
    environments: z.array(EnvRow),
  }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef }, ctx) => {
    const app = await ctx.client.resolveApplication(appRef, ctx.signal);
    const envs = await ctx.client.listEnvironmentsCached(app.uuid, ctx.signal);
    const details = await Promise.all(
      envs.map((e) => ctx.client.environments.get(e.uuid, { signal: ctx.signal })),
    );
    return {
      uuid: app.uuid,
      slug: String(app.slug ?? ''),
      name: String(app.name ?? ''),
      organisation: idOf(app.organisation),
      environments: details.map(envRow),
    };
  },
  render: (out) =>
    [
      `${quote(out.name)} (${ident(out.slug)}, ${ident(out.uuid)})`,
      ...out.environments.map(
        (e) =>
          `- ${ident(e.slug)}${e.production_grade ? ' [production]' : ''}: branch ${quote(e.branch, 200, '?')}, URL ${quote(e.url, 200, 'none')}, last deploy ${deploymentResult(e.last_deployment)}${e.deploy_running ? ', a deploy is running now' : ''}`,
      ),
    ].join('\n'),
  links: (out) => [appLink(out.slug, out.name), ...out.environments.map((e) => envLink(out.slug, e.slug))],
});

export const EnvironmentStatus = z.object({
  app: z.string(),
  environment: z.string(),
  uuid: z.string(),
  branch: PlatformText('git branch').nullable(),
  url: PlatformText('deployed URL').nullable(),
  production_grade: z.boolean(),
  running_deployment: DeploymentSummarySchema.nullable(),
  last_finished_deployment: DeploymentSummarySchema.nullable(),
  released_deployment: DeploymentSummarySchema.nullable(),
  pending_commits: z.number().nullable(),
  released_commit: z.string().nullable(),
  variable_names: z.array(z.string()).nullable(),
  service_instances: z.array(
    z.object({
      uuid: z.string(),
      type: z.string(),
      prefix: PlatformText('service prefix'),
      status: z.string(),
    }),
  ),
  /** Set when the service-instance list stopped at its page cap, so `service_instances` is not all of them. */
  service_instances_note: z.string().nullable(),
});
export type EnvironmentStatusOut = z.infer<typeof EnvironmentStatus>;

/** Shared by get_environment, diagnose_environment and the environment resource. */
export async function loadEnvironmentStatus(
  ctx: Parameters<typeof resolveTarget>[0],
  appRef: string,
  envRef: string,
): Promise<EnvironmentStatusOut> {
  const { app, env } = await resolveTarget(ctx, appRef, envRef);
  const [detail, instances] = await Promise.all([
    ctx.client.environments.get(env.uuid, { signal: ctx.signal }),
    ctx.client.serviceInstances.all({ environment: env.uuid }, { signal: ctx.signal }),
  ]);
  const pending =
    typeof detail.pending_commit_count === 'number'
      ? detail.pending_commit_count
      : detail.has_pending_commits === false
        ? 0
        : null;
  return {
    app: String(app.slug ?? app.uuid),
    environment: detail.slug,
    uuid: detail.uuid,
    branch: typeof detail.branch === 'string' ? detail.branch : null,
    url: typeof detail.deployed_url === 'string' ? detail.deployed_url : null,
    production_grade: detail.is_production_grade === true,
    running_deployment: summariseDeployment(detail.currently_running_deployment as never),
    last_finished_deployment: summariseDeployment(detail.last_finished_deployment as never),
    released_deployment: summariseDeployment(detail.currently_released_deployment as never),
    pending_commits: pending,
    released_commit:
      releasedCommitOf(detail.pending_commits_lookup) ??
      summariseDeployment(detail.currently_released_deployment as never)?.git_commit ??
      null,
    variable_names: variableNames(detail.environment_variables) ?? variableNames(env.environment_variables),
    service_instances: instances.items.map((s) => ({
      uuid: s.uuid,
      type: String(s.type ?? 'UNKNOWN'),
      prefix: String(s.prefix ?? ''),
      status: String(s.service_status ?? 'UNKNOWN'),
    })),
    service_instances_note: instances.complete
      ? null
      : `Only the first ${instances.items.length}${instances.count !== undefined ? ` of ${instances.count}` : ''} service instances were read (the list stopped at ${WHOLE_LIST_MAX_PAGES} pages); list_service_instances pages through all of them.`,
  };
}

function fmtDeploy(label: string, d: DeploymentSummary | null): string {
  if (!d) return `${label}: none`;
  return `${label}: ${deploymentResult(d)} — ${ident(d.uuid)}${d.ended_at ? `, ended ${ident(d.ended_at)}` : d.started_at ? `, started ${ident(d.started_at)}` : ''}${d.git_commit ? `, commit ${ident(d.git_commit.slice(0, 10))}` : ''}`;
}

export function renderEnvironmentStatus(out: EnvironmentStatusOut): string {
  return [
    `${envName(out.app, out.environment)}${out.production_grade ? ' [production]' : ''} (${ident(out.uuid)})`,
    `branch ${quote(out.branch, 200, '?')}, URL ${quote(out.url, 200, 'none')}, pending commits: ${out.pending_commits ?? 'unknown'}${out.released_commit ? ` (released commit ${ident(out.released_commit.slice(0, 10))})` : ''}`,
    fmtDeploy('running deployment', out.running_deployment),
    fmtDeploy('last finished deployment', out.last_finished_deployment),
    fmtDeploy('released deployment', out.released_deployment),
    `services: ${out.service_instances.map((s) => `${ident(s.type)} prefix ${ident(s.prefix)} (${ident(s.status)})`).join(', ') || 'none'}`,
    out.variable_names
      ? `variables (names only; values via list_environment_variables): ${out.variable_names.map((n) => ident(n)).join(', ') || 'none'}`
      : '',
    out.service_instances_note ?? '',
  ]
    .filter(Boolean)
    .join('\n');
}

const getEnvironment = defineTool({
  name: 'get_environment',
  title: 'Get environment status',
  toolset: 'apps',
  description:
    "Gets an environment's status; for 'what is wrong' use diagnose_environment. Returns branch, URL, deployments, pending commits, services, variable names.",
  input: z.strictObject({ app: AppRef, environment: EnvRef }),
  output: EnvironmentStatus,
  annotations: READ_ONLY,
  handler: async ({ app, environment }, ctx) => loadEnvironmentStatus(ctx, app, environment),
  render: renderEnvironmentStatus,
  links: (out) => [envLink(out.app, out.environment), logsLink(out.app, out.environment)],
});

export const appsTools = [listOrganisations, listApplications, getApplication, getEnvironment];
