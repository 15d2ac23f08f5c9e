import * as z from 'zod';
import { CronRun, describeRun, lastCronRuns } from '../domain/cron.js';
import { appLink, envLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, fence, ident, quote } from '../text/index.js';
import { envSlugMap, idOf, onePage, pageInfo, resolveAppAndEnv, resolveTarget } from './common.js';
import { AppRef, Cursor, EnvRef, Limit, PageInfo, PlatformText } from './schemas.js';

const listServiceInstances = defineTool({
  name: 'list_service_instances',
  title: 'List service instances',
  toolset: 'config',
  description:
    "Lists an environment's services; their prefixes name services in create_backup, restore_backup. Returns type, prefix, status (NEW: not provisioned); paginated (next_cursor).",
  input: z.strictObject({ app: AppRef, environment: EnvRef, limit: Limit, cursor: Cursor }),
  output: z.object({
    app: z.string(),
    environment: z.string(),
    services: z.array(
      z.object({
        uuid: z.string(),
        type: z.string(),
        prefix: PlatformText('service prefix'),
        status: z.string(),
        service: z.string().nullable(),
      }),
    ),
    ...PageInfo,
  }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef, environment, limit, cursor }, ctx) => {
    const { app, env } = await resolveTarget(ctx, appRef, environment);
    const scope = { app: app.uuid, environment: env.uuid };
    const page = await onePage(ctx, scope, cursor, () =>
      ctx.client.serviceInstances.list({ environment: env.uuid, page_size: limit }, { signal: ctx.signal }),
    );
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      services: page.results.map((s) => ({
        uuid: s.uuid,
        type: String(s.type ?? 'UNKNOWN'),
        prefix: String(s.prefix ?? ''),
        status: String(s.service_status ?? 'UNKNOWN'),
        service: idOf(s.service),
      })),
      ...pageInfo(ctx, scope, page),
    };
  },
  render: (out) =>
    [
      `Services of ${envName(out.app, out.environment)}:`,
      ...out.services.map(
        (s) => `- ${ident(s.type)} prefix ${ident(s.prefix)}: ${ident(s.status)} (${ident(s.uuid)})`,
      ),
      out.services.length === 0 ? 'None.' : '',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [envLink(out.app, out.environment)],
});

const listEnvironmentVariables = defineTool({
  name: 'list_environment_variables',
  title: 'List environment variables',
  toolset: 'config',
  description:
    "Lists an environment's variables, or one by name; to change one: set_environment_variable. Returns names and values (sensitive: null); paginated (next_cursor).",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    name: z.string().min(1).max(255).optional().describe('Exact variable name'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: z.object({
    app: z.string(),
    environment: z.string(),
    variables: z.array(
      z.object({
        uuid: z.string(),
        name: PlatformText('variable name'),
        value: PlatformText('variable value').nullable(),
        sensitive: z.boolean(),
        read_only: z.boolean(),
      }),
    ),
    ...PageInfo,
  }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef, environment, name, limit, cursor }, ctx) => {
    const { app, env } = await resolveTarget(ctx, appRef, environment);
    const scope = { app: app.uuid, environment: env.uuid, filters: { name } };
    const page = await onePage(ctx, scope, cursor, () =>
      ctx.client.environmentVariables.list(
        { environment: env.uuid, page_size: limit, ...(name ? { name } : {}) },
        { signal: ctx.signal },
      ),
    );
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      variables: page.results.map((v) => {
        const sensitive = v.is_sensitive === true;
        return {
          uuid: v.uuid,
          name: String(v.name ?? ''),
          // Never hand out a sensitive value, whatever the API returned.
          value: sensitive ? null : typeof v.value === 'string' ? v.value : null,
          sensitive,
          read_only: v.is_read_only === true,
        };
      }),
      ...pageInfo(ctx, scope, page),
    };
  },
  render: (out) => {
    // One line per variable even inside the fence: a value that spans lines is shown quoted, with \n.
    const shown = (value: string | null) =>
      value && /[\n"]/.test(value) ? quote(value, 2000) : (value ?? '');
    const lines = out.variables.map(
      (v) =>
        `${ident(v.name)}=${v.sensitive ? '[sensitive: value hidden]' : shown(v.value)}${v.read_only ? ' (read-only)' : ''}`,
    );
    return [
      `Environment variables of ${envName(out.app, out.environment)}:`,
      lines.length ? fence('environment variable values', lines.join('\n')) : 'None.',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n');
  },
  links: (out) => [envLink(out.app, out.environment)],
});

const listDomains = defineTool({
  name: 'list_domains',
  title: 'List domains',
  toolset: 'config',
  description:
    "Lists the domains of an app or environment; an environment's URL alone: get_environment. Returns environment, primary, TLS, state; paginated (next_cursor).",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef.optional().describe('Environment slug or ID; omit for all'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: z.object({
    app: z.string(),
    domains: z.array(
      z.object({
        uuid: z.string(),
        name: PlatformText('domain name'),
        environment: z.string().nullable(),
        primary: z.boolean(),
        redirect_to_primary: z
          .boolean()
          .nullable()
          .describe('is_redirect_to_primary: requests to this domain are redirected to the primary one'),
        tls: z.boolean().nullable(),
        state: z.string().nullable(),
      }),
    ),
    ...PageInfo,
  }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef, environment, limit, cursor }, ctx) => {
    const { app, env } = await resolveAppAndEnv(ctx, appRef, environment);
    const scope = { app: app.uuid, environment: env?.uuid };
    const [slugs, page] = await Promise.all([
      envSlugMap(ctx, app),
      onePage(ctx, scope, cursor, () =>
        ctx.client.domains.list(
          env ? { environment: env.uuid, page_size: limit } : { application: app.uuid, page_size: limit },
          { signal: ctx.signal },
        ),
      ),
    ]);
    return {
      app: String(app.slug ?? app.uuid),
      domains: page.results.map((d) => {
        const envId = idOf(d.environment);
        return {
          uuid: d.uuid,
          name: String(d.name ?? ''),
          environment: envId ? (slugs.get(envId) ?? envId) : null,
          primary: d.is_primary === true,
          redirect_to_primary:
            typeof d.is_redirect_to_primary === 'boolean' ? d.is_redirect_to_primary : null,
          tls: typeof d.is_tls_enabled === 'boolean' ? d.is_tls_enabled : null,
          state: typeof d.state === 'string' ? d.state : null,
        };
      }),
      ...pageInfo(ctx, scope, page),
    };
  },
  render: (out) =>
    [
      `Domains of ${ident(out.app)}:`,
      ...out.domains.map(
        (d) =>
          `- ${quote(d.name)} (${ident(d.environment)})${d.primary ? ' primary' : ''}${d.redirect_to_primary ? ', redirects to the primary domain' : ''}${d.tls ? ', TLS' : d.tls === false ? ', no TLS' : ''}${d.state ? `, ${ident(d.state)}` : ''}`,
      ),
      out.domains.length === 0 ? 'None.' : '',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [appLink(out.app)],
});

// Inferred: CreateCronjob's `time` ("02:30" for DAILY, ":42" for HOURLY) carries no zone and the reference
// names none; the platform's servers and its log timestamps run in UTC, so the times are read as UTC.
const CRON_TIME_ZONE = 'UTC' as const;

const listCronjobs = defineTool({
  name: 'list_cronjobs',
  title: 'List cronjobs',
  toolset: 'config',
  description:
    "Lists an environment's cronjobs; their output: get_environment_logs (service cronjob). Returns command, frequency, time, timeout, with runs the last runs (exit code); paginated (next_cursor).",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    runs: z.boolean().default(false).describe('Add last runs: start, end, exit code'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: z.object({
    app: z.string(),
    environment: z.string(),
    cronjobs: z.array(
      z.object({
        uuid: z.string(),
        command: PlatformText('cronjob command'),
        frequency: z.string(),
        time: z
          .string()
          .nullable()
          .describe('DAILY: time of day (02:30); HOURLY: minute of the hour (:42); in time_zone'),
        time_zone: z.literal('UTC'),
        timeout_seconds: z.number().nullable(),
        last_runs: z.array(CronRun).nullable().describe('Newest first; with runs only'),
      }),
    ),
    ...PageInfo,
  }),
  annotations: READ_ONLY,
  handler: async ({ app: appRef, environment, runs, limit, cursor }, ctx) => {
    const { app, env } = await resolveTarget(ctx, appRef, environment);
    const scope = { app: app.uuid, environment: env.uuid };
    const page = await onePage(ctx, scope, cursor, () =>
      ctx.client.cronjobs.list({ environment: env.uuid, limit }, { signal: ctx.signal }),
    );
    const ids = page.results.map((c) => c.uuid);
    const lastRuns = runs ? await lastCronRuns(ctx.client, ids, ctx.signal) : null;
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      cronjobs: page.results.map((c) => ({
        uuid: c.uuid,
        command: String(c.command ?? ''),
        frequency: String(c.frequency ?? ''),
        time: typeof c.time === 'string' && c.time ? c.time : null,
        time_zone: CRON_TIME_ZONE,
        timeout_seconds: typeof c.custom_timeout === 'number' ? c.custom_timeout : null,
        last_runs: lastRuns ? (lastRuns.get(c.uuid) ?? []) : null,
      })),
      ...pageInfo(ctx, scope, page),
    };
  },
  render: (out) =>
    [
      `Cronjobs of ${envName(out.app, out.environment)}:`,
      ...out.cronjobs.map(
        (c) =>
          `- ${ident(c.frequency)}${c.time ? ` at ${ident(c.time)} ${c.time_zone}` : ''}: command ${quote(c.command, 1000)}${c.timeout_seconds ? ` (timeout ${c.timeout_seconds}s)` : ''}${c.last_runs ? `; ${describeRun(c.last_runs[0])}` : ''}`,
      ),
      out.cronjobs.length === 0 ? 'None.' : '',
      out.has_more ? 'More: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [envLink(out.app, out.environment)],
});

export const configReadTools = [listServiceInstances, listEnvironmentVariables, listDomains, listCronjobs];
