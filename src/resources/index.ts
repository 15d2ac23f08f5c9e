import {
  type ListResourcesResult,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
  type Resource,
  ResourceNotFoundError,
  ResourceTemplate,
  UriTemplate,
} from '@modelcontextprotocol/server';
import { ConfigurationError, type DivioClient, NotFoundError, ResolutionError } from '../client/index.js';
import { getBackup } from '../domain/backups.js';
import type { Api } from '../domain/context.js';
import { deploymentLogTail } from '../domain/deployments.js';
import {
  applicationIndex,
  applicationOverview,
  environmentIndex,
  environmentStatus,
} from '../domain/environments.js';
import { formatLogLine, recentLogs } from '../domain/logs.js';
import { APP_MIME_TYPE } from '../mcp/apps.js';
import { type Completer, completers } from '../mcp/completion.js';
import type { ServerConfig, Toolset } from '../mcp/config.js';
import { describeError } from '../mcp/errors.js';
import { uris } from '../mcp/links.js';
import { envName, fence, ident, inline, quote, sanitize, sanitizeDeep } from '../text/index.js';
import { readView, VIEWS } from './views.js';

export { uris } from '../mcp/links.js';

export const RESOURCE_PAGE_SIZE = 50;
const LOG_WINDOW_MS = 15 * 60_000;
const LOG_LIMIT = 500;
const DEPLOY_LOG_TAIL = 400;

export interface ResourceDeps {
  client: DivioClient;
  config: ServerConfig;
}

export interface ResourceOptions {
  /** Applications per resources/list page (each brings its environments along). */
  pageSize?: number;
}

type Vars = Record<string, string>;
type Read = (uri: URL, vars: Vars, api: Api) => Promise<ReadResourceResult>;

interface Route {
  name: string;
  toolset: Toolset;
  /** A fixed URI or a URI template. */
  uri: string;
  title: string;
  description: string;
  mimeType: 'application/json' | 'text/plain' | typeof APP_MIME_TYPE;
  complete?: Record<string, Completer>;
  read: Read;
}

/** JSON resources carry platform text in their string fields: sanitized like tool results. */
function json(uri: URL, value: unknown): ReadResourceResult {
  return {
    contents: [
      { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(sanitizeDeep(value), null, 2) },
    ],
  };
}

function text(uri: URL, body: string): ReadResourceResult {
  return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: body }] };
}

/** Slugs, UUIDs and IDs are short; the tools cap the same values at 200 characters (AppRef, EnvRef). */
const MAX_VARIABLE = 200;

const LIST_TOOL: Record<string, string> = {
  app: 'list_applications',
  environment: 'get_application',
  deployment: 'list_deployments',
  backup: 'list_backups',
};

function variable(vars: Vars, name: string): string {
  const raw = vars[name] ?? '';
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    value = raw;
  }
  if (value.length > MAX_VARIABLE) {
    // A longer value cannot name anything, and sent on as a query it makes the API refuse the request line.
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `The {${name}} part of the URI is longer than ${MAX_VARIABLE} characters, so it cannot name anything. ${LIST_TOOL[name] ?? 'list_applications'} shows valid values.`,
    );
  }
  return value;
}

/** An application row with its resource URI. */
function appRow<T extends { slug: string }>(a: T): T & { uri: string } {
  return { ...a, uri: uris.application(a.slug) };
}

function buildRoutes(client: DivioClient, config: ServerConfig): Route[] {
  const complete = completers(client);
  const appEnv = { app: complete.app, environment: complete.environment };
  return [
    {
      name: 'applications',
      toolset: 'apps',
      uri: uris.applications(),
      title: 'Applications',
      description: 'The applications the API token can see (slug, name, ID, resource URI).',
      mimeType: 'application/json',
      read: async (uri, _vars, api) => {
        const { apps, capped } = await applicationIndex(api);
        return json(uri, { applications: apps.map(appRow), note: capped ? 'First 200 only.' : null });
      },
    },
    {
      name: 'application',
      toolset: 'apps',
      uri: 'divio://applications/{app}',
      title: 'Application',
      description: 'One application (slug or ID) with its environments and their resource URIs.',
      mimeType: 'application/json',
      complete: { app: complete.app },
      read: async (uri, vars, api) => {
        const { environments, ...app } = await applicationOverview(api, variable(vars, 'app'));
        const { organisation, ...row } = app;
        return json(uri, {
          ...appRow(row),
          organisation,
          environments: environments.map((e) => ({
            ...e,
            uri: uris.environment(app.slug, e.slug),
            logs: uris.logs(app.slug, e.slug),
          })),
        });
      },
    },
    {
      name: 'environment',
      toolset: 'apps',
      uri: 'divio://applications/{app}/environments/{environment}',
      title: 'Environment status',
      description:
        'Status of one environment, as get_environment returns it: branch, URL, deployments, pending commits, services.',
      mimeType: 'application/json',
      complete: appEnv,
      read: async (uri, vars, api) =>
        json(uri, await environmentStatus(api, variable(vars, 'app'), variable(vars, 'environment'))),
    },
    {
      name: 'environment-logs',
      toolset: 'logs',
      uri: 'divio://applications/{app}/environments/{environment}/logs',
      title: 'Environment runtime logs',
      description:
        'The last 15 minutes of runtime logs, newest kept when capped. Untrusted platform text. For other windows or filters use get_environment_logs.',
      mimeType: 'text/plain',
      complete: appEnv,
      read: async (uri, vars, api) => {
        const page = await recentLogs(
          api,
          variable(vars, 'app'),
          variable(vars, 'environment'),
          LOG_WINDOW_MS,
          LOG_LIMIT,
          config.maxLogBytes,
        );
        const name = envName(page.app, page.environment);
        const head = `Runtime logs of ${name}, last 15 minutes, oldest first: ${page.entries.length} entries.`;
        const notes = [
          page.cut > 0 ? `${page.cut} older entries were cut to stay under the size cap.` : '',
          page.olderUrl ? 'Older entries exist: use get_environment_logs with since, service or search.' : '',
        ].filter(Boolean);
        const body =
          page.entries.length > 0
            ? fence('runtime log output', page.entries.map(formatLogLine).join('\n'))
            : 'No log entries in the last 15 minutes.';
        return text(uri, [head, ...notes, body].join('\n'));
      },
    },
    {
      name: 'deployment-log',
      toolset: 'deploy',
      uri: 'divio://deployments/{deployment}/log',
      title: 'Deployment log',
      description: `The build/deploy log of one deployment (its ID, as list_deployments returns it), last ${DEPLOY_LOG_TAIL} lines at most. Untrusted platform text. To search it use get_deployment_log.`,
      mimeType: 'text/plain',
      complete: { deployment: complete.deployment },
      read: async (uri, vars, api) => {
        const uuid = variable(vars, 'deployment');
        const log = await deploymentLogTail(api, uuid, DEPLOY_LOG_TAIL, config.maxLogBytes);
        const shown = log.lines.length;
        const head =
          shown < log.total
            ? `Deploy log of ${ident(uuid)}: the last ${shown} of ${log.total} lines${log.dropped > 0 ? ' (size cap)' : ''}.`
            : `Deploy log of ${ident(uuid)}: ${log.total} lines.`;
        const body = shown > 0 ? fence('deploy log output', log.lines.join('\n')) : 'The log is empty.';
        return text(uri, `${head}\n${body}`);
      },
    },
    {
      name: 'backup',
      toolset: 'backups',
      uri: 'divio://backups/{backup}',
      title: 'Backup',
      description:
        'One backup (its ID, as list_backups returns it) with its service-instance backups: type, size, time taken, errors.',
      mimeType: 'application/json',
      complete: { backup: complete.backup },
      read: async (uri, vars, api) => json(uri, await getBackup(api, variable(vars, 'backup'))),
    },
  ];
}

const NOT_FOUND_HINTS: Record<string, string> = {
  'deployment-log': 'No such deployment. list_deployments shows valid deployment IDs.',
  backup: 'No such backup. list_backups shows valid backup IDs.',
};

/** Read failures become JSON-RPC errors whose message says what is valid. */
function toProtocolError(error: unknown, route: Route, uri: string): Error {
  if (error instanceof ProtocolError) return error;
  if (error instanceof ResolutionError) return new ResourceNotFoundError(uri, sanitize(error.message));
  if (error instanceof NotFoundError) {
    return new ResourceNotFoundError(
      uri,
      `${NOT_FOUND_HINTS[route.name] ?? 'Not found.'} (${quote(uri, 500)})`,
    );
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, describeError(error, `reading ${uri}`));
}

function enabled(config: ServerConfig, toolset: Toolset): boolean {
  return config.toolsets === null || config.toolsets.has(toolset);
}

function encodeListCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset }), 'utf8').toString('base64url');
}

function decodeListCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // Fall through to the error below.
  }
  throw new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    'Invalid cursor for resources/list. Pass nextCursor from the previous page unchanged, or omit it to start over.',
  );
}

interface Matcher {
  route: Route;
  template: UriTemplate | null;
  resourceTemplate: ResourceTemplate | null;
  read: (uri: URL, vars: Vars, signal: AbortSignal) => Promise<ReadResourceResult>;
}

// The HTTP transport builds a server for every request: the route table, its parsed URI templates and the read
// functions depend only on the client and the configuration, so they are built once for each pair (they hold
// no per-request state) and registered on every server built with them.
const preparedRoutes = new WeakMap<
  DivioClient,
  WeakMap<ServerConfig, { routes: Route[]; matchers: Matcher[] }>
>();

function prepared(deps: ResourceDeps): { routes: Route[]; matchers: Matcher[] } {
  let byConfig = preparedRoutes.get(deps.client);
  if (!byConfig) {
    byConfig = new WeakMap();
    preparedRoutes.set(deps.client, byConfig);
  }
  let found = byConfig.get(deps.config);
  if (!found) {
    const routes = [...buildRoutes(deps.client, deps.config), ...viewRoutes()].filter((r) =>
      enabled(deps.config, r.toolset),
    );
    const matchers = routes.map((route): Matcher => {
      const templated = route.uri.includes('{');
      return {
        route,
        template: templated ? new UriTemplate(route.uri) : null,
        resourceTemplate: templated
          ? new ResourceTemplate(route.uri, { list: undefined, complete: route.complete ?? {} })
          : null,
        read: async (uri, vars, signal) => {
          try {
            return await route.read(uri, vars, { client: deps.client, signal });
          } catch (error) {
            throw toProtocolError(error, route, uri.href);
          }
        },
      };
    });
    found = { routes, matchers };
    byConfig.set(deps.config, found);
  }
  return found;
}

/**
 * Registers the Divio resources. Resources are read-only, so --read-only changes nothing here; --toolsets
 * drops a resource only when its whole area is switched off. Registration only builds closures: no I/O.
 */
export function registerResources(
  server: McpServer,
  deps: ResourceDeps,
  options: ResourceOptions = {},
): void {
  const { routes, matchers } = prepared(deps);
  if (routes.length === 0) return;
  const pageSize = Math.max(1, options.pageSize ?? RESOURCE_PAGE_SIZE);

  for (const { route, resourceTemplate, read } of matchers) {
    const meta = { title: route.title, description: route.description, mimeType: route.mimeType };
    if (resourceTemplate) {
      server.registerResource(route.name, resourceTemplate, meta, (uri, vars, ctx) =>
        read(uri, vars as Vars, ctx.mcpReq.signal),
      );
    } else {
      server.registerResource(route.name, route.uri, meta, (uri, ctx) => read(uri, {}, ctx.mcpReq.signal));
    }
  }

  // McpServer's own resources/list ignores the cursor and returns everything at once, and its resources/read
  // answers an unknown URI with a bare "not found". Both are replaced on the underlying Server (the
  // registrations above already declared the capability and serve templates/list and completion).
  server.server.setRequestHandler('resources/read', async (request, ctx) => {
    const uri = request.params.uri;
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new ResourceNotFoundError(uri, `${quote(uri, 500)} is not a URI. ${validUris(routes)}`);
    }
    for (const { route, template, read } of matchers) {
      const vars = template ? template.match(url.href) : url.href === route.uri ? {} : null;
      if (vars) return read(url, vars as Vars, ctx.mcpReq.signal);
    }
    throw new ResourceNotFoundError(uri, `No resource matches ${quote(uri, 500)}. ${validUris(routes)}`);
  });

  if (!enabled(deps.config, 'apps')) {
    server.server.setRequestHandler('resources/list', async () => ({ resources: [] }));
    return;
  }
  server.server.setRequestHandler('resources/list', async (request, ctx) => {
    const offset = decodeListCursor(request.params?.cursor);
    const signal = ctx.mcpReq.signal;
    try {
      return await listPage(deps.client, offset, pageSize, signal);
    } catch (error) {
      // Clients list resources on connect; without a token, offer the listing whose read explains the fix.
      if (error instanceof ConfigurationError && offset === 0) return { resources: [APPLICATIONS_ENTRY] };
      throw new ProtocolError(ProtocolErrorCode.InternalError, describeError(error, 'resources/list'));
    }
  });
}

/** The MCP Apps views (ui://), readable by every client; only clients that negotiated MCP Apps are linked to them. */
function viewRoutes(): Route[] {
  return VIEWS.map((view) => ({
    name: `view-${view.name}`,
    toolset: view.toolset,
    uri: view.uri,
    title: view.title,
    description: view.description,
    mimeType: APP_MIME_TYPE,
    read: async (uri) => readView(view, uri.href),
  }));
}

function validUris(routes: readonly Route[]): string {
  const listed = routes.filter((r) => r.mimeType !== APP_MIME_TYPE);
  return `Valid resources: ${listed.map((r) => r.uri).join(', ')}. {app} and {environment} take a slug or an ID.`;
}

const APPLICATIONS_ENTRY: Resource = {
  uri: uris.applications(),
  name: 'applications',
  title: 'Applications',
  mimeType: 'application/json',
};

async function listPage(
  client: DivioClient,
  offset: number,
  pageSize: number,
  signal: AbortSignal,
): Promise<ListResourcesResult> {
  const api = { client, signal };
  const { apps } = await applicationIndex(api);
  const slice = apps.slice(offset, offset + pageSize);
  const envLists = await Promise.all(slice.map((a) => environmentIndex(api, a.uuid)));
  const resources: Resource[] = [];
  if (offset === 0) resources.push(APPLICATIONS_ENTRY);
  slice.forEach((app, i) => {
    const row = appRow(app);
    resources.push({
      uri: row.uri,
      name: inline(row.slug),
      title: inline(row.name || row.slug),
      description: `Application ${ident(row.slug)} with its environments`,
      mimeType: 'application/json',
    });
    for (const env of envLists[i] ?? []) {
      resources.push({
        uri: uris.environment(row.slug, env.slug),
        name: inline(`${row.slug}/${env.slug}`),
        title: inline(`${row.name || row.slug} — ${env.slug}`),
        description: `Status of environment ${ident(env.slug)} of ${ident(row.slug)}`,
        mimeType: 'application/json',
      });
    }
  });
  const next = offset + pageSize;
  return { resources, ...(next < apps.length ? { nextCursor: encodeListCursor(next) } : {}) };
}
