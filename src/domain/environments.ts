import * as z from 'zod';
import { type Environment, looksLikeId, WHOLE_LIST_MAX_PAGES } from '../client/index.js';
import { ident, inline, quote, quoteList } from '../text/index.js';
import { type Api, onePage, type Pager } from './context.js';
import { releasedCommitOf, summariseDeployment } from './deployments.js';
import { ToolError } from './errors.js';
import { PendingCommit, pendingCommits, pendingCount, servingNote } from './release.js';
import { DeploymentSummary, PageInfo, PlatformText } from './shapes.js';
import { idOf, resolveTarget } from './targets.js';

export const OrganisationList = z.object({
  organisations: z.array(z.object({ uuid: z.string(), name: PlatformText('organisation name') })),
  ...PageInfo,
});

export async function listOrganisations(
  api: Api,
  args: { limit: number },
  pager: Pager,
): Promise<z.infer<typeof OrganisationList>> {
  const page = await onePage(api, pager, {}, () =>
    api.client.organisations.list({ page_size: args.limit }, api),
  );
  return {
    organisations: page.results.map((o) => ({ uuid: o.uuid, name: String(o.name ?? '') })),
    ...pager.info({}, page.next),
  };
}

export const ApplicationList = z.object({
  applications: z.array(
    z.object({
      slug: z.string(),
      name: PlatformText('application name'),
      uuid: z.string(),
      organisation: PlatformText('organisation name or ID').nullable(),
    }),
  ),
  ...PageInfo,
});

/**
 * An organisation filter as the API takes it: an exact ID or an exact (case-insensitive) name, whichever hits;
 * an ID-shaped value that is on no listed organisation goes to the API verbatim (the listing may stop at its
 * page cap).
 */
function organisationFilter(organisation: string, orgs: Map<string, string>, complete: boolean): string {
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
  const filter = hits[0] ?? (looksLikeId(organisation) ? organisation : undefined);
  if (!filter) {
    throw new ToolError(
      `Organisation ${quote(organisation)} was not found. Valid organisations: ${quoteList([...orgs.values()]) || 'none'}. Pass a name from that list or an ID returned by list_organisations.${complete ? '' : ` Only the first ${orgs.size} organisations were read; pass the organisation's ID instead.`}`,
    );
  }
  return filter;
}

export async function listApplications(
  api: Api,
  args: { organisation?: string | undefined; name?: string | undefined; limit: number },
  pager: Pager,
): Promise<z.infer<typeof ApplicationList>> {
  const { organisation, name, limit } = args;
  const listPage = (orgFilter: string | undefined) =>
    onePage(api, pager, { filters: { organisation: orgFilter, name } }, () =>
      api.client.applications.list(
        {
          page_size: limit,
          ...(orgFilter ? { organisation: orgFilter } : {}),
          ...(name ? { name_search: name } : {}),
        },
        api,
      ),
    );
  // Without an organisation filter the page does not depend on the organisations: read both at once.
  const [orgList, unfiltered] = await Promise.all([
    api.client.organisations.all(api),
    organisation ? undefined : listPage(undefined),
  ]);
  const orgs = new Map(orgList.items.map((o) => [o.uuid, String(o.name ?? '')]));
  const orgFilter = organisation ? organisationFilter(organisation, orgs, orgList.complete) : undefined;
  const page = unfiltered ?? (await listPage(orgFilter));
  return {
    applications: page.results.map((a) => {
      const org = idOf(a.organisation);
      return {
        slug: a.slug,
        name: String(a.name ?? ''),
        uuid: a.uuid,
        organisation: org ? (orgs.get(org) ?? org) : null,
      };
    }),
    ...pager.info({ filters: { organisation: orgFilter, name } }, page.next),
  };
}

const EnvRow = z.object({
  slug: z.string(),
  uuid: z.string(),
  branch: PlatformText('git branch').nullable(),
  url: PlatformText('deployed URL').nullable(),
  production_grade: z.boolean(),
  last_deployment: DeploymentSummary.nullable(),
  deploy_running: z.boolean(),
});

function envRow(env: Environment): z.infer<typeof EnvRow> {
  return {
    slug: env.slug,
    uuid: env.uuid,
    branch: typeof env.branch === 'string' ? env.branch : null,
    url: typeof env.deployed_url === 'string' ? env.deployed_url : null,
    production_grade: env.is_production_grade === true,
    last_deployment: summariseDeployment(env.last_finished_deployment),
    deploy_running: summariseDeployment(env.currently_running_deployment) !== null,
  };
}

export const ApplicationDetail = z.object({
  uuid: z.string(),
  slug: z.string(),
  name: PlatformText('application name'),
  organisation: z.string().nullable(),
  environments: z.array(EnvRow),
});

export async function getApplication(api: Api, appRef: string): Promise<z.infer<typeof ApplicationDetail>> {
  const app = await api.client.resolveApplication(appRef, api.signal);
  const envs = await api.client.listEnvironmentsCached(app.uuid, api.signal);
  const details = await Promise.all(envs.map((e) => api.client.environments.get(e.uuid, api)));
  return {
    uuid: app.uuid,
    slug: app.slug,
    name: String(app.name ?? ''),
    organisation: idOf(app.organisation),
    environments: details.map(envRow),
  };
}

/** The applications the token can see (the resolver's cached list, first 200), for the applications resource. */
export async function applicationIndex(api: Api) {
  const apps = await api.client.listApplicationsCached(api.signal);
  return {
    apps: apps.map((a) => ({ slug: a.slug, name: String(a.name ?? ''), uuid: a.uuid })),
    capped: apps.length >= 200,
  };
}

/** The environments of an application (the resolver's cached list): slug, ID, branch. */
export async function environmentIndex(api: Api, appUuid: string) {
  const envs = await api.client.listEnvironmentsCached(appUuid, api.signal);
  return envs.map((e) => ({
    slug: e.slug,
    uuid: e.uuid,
    branch: typeof e.branch === 'string' ? e.branch : null,
  }));
}

/** One application and its environments (the resolver's cached lists), for the application resource. */
export async function applicationOverview(api: Api, appRef: string) {
  const app = await api.client.resolveApplication(appRef, api.signal);
  return {
    slug: app.slug,
    name: String(app.name ?? ''),
    uuid: app.uuid,
    organisation: idOf(app.organisation),
    environments: await environmentIndex(api, app.uuid),
  };
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

export const EnvironmentStatus = z.object({
  app: z.string(),
  environment: z.string(),
  uuid: z.string(),
  branch: PlatformText('git branch').nullable(),
  url: PlatformText('deployed URL').nullable(),
  production_grade: z.boolean(),
  running_deployment: DeploymentSummary.nullable(),
  last_finished_deployment: DeploymentSummary.nullable(),
  released_deployment: DeploymentSummary.nullable(),
  pending_commits: z.number().nullable(),
  /** The pending commits themselves, newest first and capped; null when they could not be read. */
  pending_commit_list: z.array(PendingCommit).nullable(),
  /** Why the commit list is missing or shorter than `pending_commits`. */
  pending_commits_note: z.string().nullable(),
  released_commit: z.string().nullable(),
  /** Set when the last deploy failed: whether it went live and what serves instead. */
  serving_note: z.string().nullable(),
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
export type EnvironmentStatus = z.infer<typeof EnvironmentStatus>;

/** The status of one environment: what get_environment, diagnose_environment and the environment resource show. */
export async function environmentStatus(
  api: Api,
  appRef: string,
  envRef: string,
  /** Called with the environment as soon as it is read, so a caller can start reads that depend on it. */
  onEnvironment?: (detail: Environment) => void,
): Promise<EnvironmentStatus> {
  const { app, env } = await resolveTarget(api, appRef, envRef);
  const [detail, instances] = await Promise.all([
    api.client.environments.get(env.uuid, api),
    api.client.serviceInstances.all({ environment: env.uuid }, api),
  ]);
  onEnvironment?.(detail);
  const pending = pendingCount(detail);
  const commits = await pendingCommits(api, app, detail);
  const released = summariseDeployment(detail.currently_released_deployment);
  return {
    app: app.slug,
    environment: detail.slug,
    uuid: detail.uuid,
    branch: typeof detail.branch === 'string' ? detail.branch : null,
    url: typeof detail.deployed_url === 'string' ? detail.deployed_url : null,
    production_grade: detail.is_production_grade === true,
    running_deployment: summariseDeployment(detail.currently_running_deployment),
    last_finished_deployment: summariseDeployment(detail.last_finished_deployment),
    released_deployment: released,
    pending_commits: pending,
    pending_commit_list: commits.commits,
    pending_commits_note: commits.note,
    released_commit: releasedCommitOf(detail.pending_commits_lookup) ?? released?.git_commit ?? null,
    serving_note: servingNote(detail),
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
