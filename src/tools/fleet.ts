import * as z from 'zod';
import { FleetOverview, type FleetOverviewOut, fleetOverview } from '../domain/fleet.js';
import { ToolError } from '../mcp/errors.js';
import { envLink } from '../mcp/links.js';
import { defineTool, READ_ONLY, type ToolContext } from '../mcp/registry.js';
import { parseTimeArg } from '../text/format.js';
import { envName, ident, quote, quoteList } from '../text/index.js';

/** An organisation by exact ID or exact (case-insensitive) name, as list_applications takes it. */
async function organisationOf(ctx: ToolContext, ref: string): Promise<{ uuid: string; name: string }> {
  const orgs = await ctx.client.organisations.all({ signal: ctx.signal });
  const hits = orgs.items.filter(
    (o) => o.uuid === ref || String(o.name ?? '').toLowerCase() === ref.toLowerCase(),
  );
  const [hit] = hits;
  if (hits.length > 1)
    throw new ToolError(
      `Organisation ${quote(ref)} is ambiguous: IDs ${hits.map((o) => ident(o.uuid)).join(', ')}. Pass one of those IDs; ask the user which one they mean.`,
    );
  if (!hit)
    throw new ToolError(
      `Organisation ${quote(ref)} was not found. Valid organisations: ${quoteList(orgs.items.map((o) => String(o.name ?? ''))) || 'none'}. Pass a name from that list or an ID returned by list_organisations.`,
    );
  return { uuid: hit.uuid, name: String(hit.name ?? '') };
}

function render(out: FleetOverviewOut): string {
  const rows = out.rows.map((r) => {
    const deploy =
      r.last_deploy.result === 'failed' && r.last_deploy.live === false
        ? 'last deploy failed (not live)'
        : `last deploy ${r.last_deploy.result}`;
    const errors = r.errors
      ? `${r.errors.at_least ? '≥' : ''}${r.errors.count} error${r.errors.count === 1 ? '' : 's'}`
      : 'errors unknown';
    const backup = r.last_successful_backup
      ? `backup ${r.last_successful_backup.age_hours ?? '?'}h old`
      : 'no good backup';
    const unprov = r.unprovisioned_services.length
      ? `, not provisioned: ${r.unprovisioned_services.map((s) => ident(s)).join(', ')}`
      : '';
    const unread = r.unreadable.length ? `, unreadable: ${r.unreadable.join('; ')}` : '';
    return `- ${envName(r.app, r.environment)}${r.production_grade ? ' [production]' : ''}: ${r.status.toUpperCase()} — ${deploy}, ${errors}, ${backup}${unprov}${unread}`;
  });
  return [
    `Fleet${out.organisation ? ` of ${quote(out.organisation)}` : ''}: ${out.rows.length} environments, errors counted since ${out.window_start}.`,
    out.findings.length ? 'Findings:' : 'No problems found.',
    ...out.findings.map((f) => `- [${f.severity}] ${f.environment}: ${f.message}`),
    'Environments:',
    ...rows,
    out.note ?? '',
  ]
    .filter(Boolean)
    .join('\n');
}

const getFleetOverview = defineTool({
  name: 'get_fleet_overview',
  title: 'Fleet overview',
  toolset: 'apps',
  description:
    'Checks every environment at once for "which apps have a problem": last deploy, error count, last good backup, unprovisioned services; not for one environment (diagnose_environment). Returns findings first, then one row per environment; capped at 40.',
  input: z.strictObject({
    organisation: z.string().max(200).optional().describe('Name or ID from list_organisations'),
    since: z.string().max(40).default('1h').describe('Error window: 15m, 1h, 1d or ISO 8601'),
  }),
  output: FleetOverview,
  annotations: READ_ONLY,
  handler: async (args, ctx) =>
    fleetOverview(ctx.client, {
      organisation: args.organisation ? await organisationOf(ctx, args.organisation) : undefined,
      since: parseTimeArg('since', args.since, ctx.client.now()),
      now: ctx.client.now(),
      signal: ctx.signal,
    }),
  render,
  links: (out) =>
    out.rows
      .filter((r) => r.status !== 'healthy')
      .slice(0, 10)
      .map((r) => envLink(r.app, r.environment)),
});

export const fleetTools = [getFleetOverview];
