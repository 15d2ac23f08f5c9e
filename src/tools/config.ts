import * as z from 'zod';
import { describeRun } from '../domain/cron.js';
import { CronjobList, listCronjobs as cronjobList } from '../domain/cronjobs.js';
import { DomainList, listDomains as domainList } from '../domain/domains.js';
import { ServiceInstanceList, listServiceInstances as serviceInstanceList } from '../domain/services.js';
import { listVariables, type VariableComparisonOut, VariableList } from '../domain/variables.js';
import { appLink, envLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, fence, ident, quote } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, EnvRef, Limit } from './schemas.js';

const listServiceInstances = defineTool({
  name: 'list_service_instances',
  title: 'List service instances',
  toolset: 'config',
  description:
    "Lists an environment's services; prefixes name services in create_backup, restore_backup. Returns type, prefix, status (NEW: not provisioned); paginated (next_cursor).",
  input: z.strictObject({ app: AppRef, environment: EnvRef, limit: Limit, cursor: Cursor }),
  output: ServiceInstanceList,
  annotations: READ_ONLY,
  handler: (args, ctx) => serviceInstanceList(ctx, args, pages(ctx, args.cursor)),
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

// One line per variable even inside the fence: a value that spans lines is shown quoted, with \n.
const shown = (value: string | null) => (value && /[\n"]/.test(value) ? quote(value, 2000) : (value ?? ''));

function renderComparison(app: string, env: string, c: VariableComparisonOut): string {
  const other = ident(c.other_environment);
  const when = (d: string | null) => (d ? ` (modified ${ident(d)})` : '');
  const lines = c.differences.map((d) => {
    const name = ident(d.name);
    if (d.status === 'only_here') return `only in ${ident(env)}: ${name}${when(d.date_modified)}`;
    if (d.status === 'only_there') return `only in ${other}: ${name}${when(d.other_date_modified)}`;
    if (d.sensitive) return `${d.status}, sensitive (values hidden): ${name}${when(d.date_modified)}`;
    if (d.status === 'unknown') return `unknown: ${name}`;
    return `differs: ${name}=${shown(d.value)} here, =${shown(d.other_value)} in ${other}${when(d.date_modified)}`;
  });
  return [
    `Environment variables of ${envName(app, env)} compared with ${other}:`,
    lines.length ? fence('environment variable values', lines.join('\n')) : 'No differences.',
    c.same.length ? `Same value in both: ${c.same.map((n) => ident(n)).join(', ')}` : '',
    c.note ?? '',
  ]
    .filter(Boolean)
    .join('\n');
}

const listEnvironmentVariables = defineTool({
  name: 'list_environment_variables',
  title: 'List environment variables',
  toolset: 'config',
  description:
    "Lists an environment's variables, or one by name; to change one: set_environment_variable. Returns names, values (sensitive: null); paginated (next_cursor).",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    name: z.string().min(1).max(255).optional().describe('Exact variable name'),
    compare_with: EnvRef.optional().describe('Other env: only differences (sensitive: same/differs)'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: VariableList,
  annotations: READ_ONLY,
  handler: (args, ctx) => listVariables(ctx, args, pages(ctx, args.cursor)),
  render: (out) => {
    if (out.comparison) return renderComparison(out.app, out.environment, out.comparison);
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
    'Lists the domains of an app or environment; its URL alone: get_environment. Returns environment, primary, TLS, state; paginated (next_cursor).',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef.optional().describe('Env slug or ID; omit for all'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: DomainList,
  annotations: READ_ONLY,
  handler: (args, ctx) => domainList(ctx, args, pages(ctx, args.cursor)),
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

const listCronjobs = defineTool({
  name: 'list_cronjobs',
  title: 'List cronjobs',
  toolset: 'config',
  description:
    "Lists an environment's cronjobs; output: get_environment_logs (service cronjob). Returns command, schedule, timeout and, with runs, the last runs; paginated (next_cursor).",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    runs: z.boolean().default(false).describe('Add last runs: start, end, exit code'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: CronjobList,
  annotations: READ_ONLY,
  handler: (args, ctx) => cronjobList(ctx, args, pages(ctx, args.cursor)),
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
