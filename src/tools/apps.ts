import * as z from 'zod';
import { deploymentResult } from '../domain/deployments.js';
import {
  ApplicationDetail,
  ApplicationList,
  getApplication as applicationDetail,
  listApplications as applicationList,
  EnvironmentStatus,
  environmentStatus,
  OrganisationList,
  listOrganisations as organisationList,
} from '../domain/environments.js';
import { commitLine } from '../domain/release.js';
import type { DeploymentSummary } from '../domain/shapes.js';
import { appLink, envLink, logsLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, ident, quote } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, copied, EnvRef, Limit } from './schemas.js';

const listOrganisations = defineTool({
  name: 'list_organisations',
  title: 'List organisations',
  toolset: 'apps',
  description:
    'Lists organisations the token can see, to filter list_applications. Returns name, uuid; paginated (next_cursor).',
  input: z.strictObject({ limit: Limit, cursor: Cursor }),
  output: OrganisationList,
  annotations: READ_ONLY,
  handler: (args, ctx) => organisationList(ctx, args, pages(ctx, args.cursor)),
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
    'Lists applications by organisation or name; environments: get_application. Returns slug, name, uuid, organisation; paginated (next_cursor).',
  input: z.strictObject({
    organisation: copied(200, 'an organisation name or ID')
      .optional()
      .describe('Organisation name (exact) or ID'),
    name: z.string().min(1).max(100).optional().describe('Part of the app name'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: ApplicationList,
  annotations: READ_ONLY,
  handler: (args, ctx) => applicationList(ctx, args, pages(ctx, args.cursor)),
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

const getApplication = defineTool({
  name: 'get_application',
  title: 'Get application',
  toolset: 'apps',
  description:
    'Gets an app and its environments; one environment: get_environment. Returns slug, branch, URL, last deploy per environment.',
  input: z.strictObject({ app: AppRef }),
  output: ApplicationDetail,
  annotations: READ_ONLY,
  handler: ({ app }, ctx) => applicationDetail(ctx, app),
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

function fmtDeploy(label: string, d: DeploymentSummary | null): string {
  if (!d) return `${label}: none`;
  return `${label}: ${deploymentResult(d)} — ${ident(d.uuid)}${d.ended_at ? `, ended ${ident(d.ended_at)}` : d.started_at ? `, started ${ident(d.started_at)}` : ''}${d.git_commit ? `, commit ${ident(d.git_commit.slice(0, 10))}` : ''}`;
}

export function renderEnvironmentStatus(out: EnvironmentStatus): string {
  return [
    `${envName(out.app, out.environment)}${out.production_grade ? ' [production]' : ''} (${ident(out.uuid)})`,
    `branch ${quote(out.branch, 200, '?')}, URL ${quote(out.url, 200, 'none')}, pending commits: ${out.pending_commits ?? 'unknown'}${out.released_commit ? ` (released commit ${ident(out.released_commit.slice(0, 10))})` : ''}`,
    ...(out.pending_commit_list ?? []).map((c) => `- pending ${commitLine(c)}`),
    out.pending_commits_note ?? '',
    out.serving_note ?? '',
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
    "Gets an environment's status; for 'what is wrong': diagnose_environment. Returns branch, URL, deploys, pending commits, services, variable names.",
  input: z.strictObject({ app: AppRef, environment: EnvRef }),
  output: EnvironmentStatus,
  annotations: READ_ONLY,
  handler: ({ app, environment }, ctx) => environmentStatus(ctx, app, environment),
  render: renderEnvironmentStatus,
  links: (out) => [envLink(out.app, out.environment), logsLink(out.app, out.environment)],
});

export const appsTools = [listOrganisations, listApplications, getApplication, getEnvironment];
