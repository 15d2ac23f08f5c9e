import * as z from 'zod';
import { METRIC_WINDOWS } from '../client/index.js';
import { EnvironmentMetricsView, environmentMetrics, type MetricSummary } from '../domain/metrics.js';
import { envLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, ident } from '../text/index.js';
import { resolveTarget } from './common.js';
import { AppRef, capped, EnvRef } from './schemas.js';

const num = (n: number | null) => (n === null ? '-' : String(n));

function line(m: MetricSummary): string {
  const unit = m.unit ? ` ${ident(m.unit)}` : '';
  if (m.points === 0) return `- ${ident(m.title ?? m.name)} (${ident(m.name)}): no data`;
  return `- ${ident(m.title ?? m.name)} (${ident(m.name)}): latest ${num(m.latest)}${unit}; min ${num(m.min)}, p50 ${num(m.p50)}, p90 ${num(m.p90)}, max ${num(m.max)} over ${m.points} points`;
}

const getEnvironmentMetrics = defineTool({
  name: 'get_environment_metrics',
  title: 'Get environment metrics',
  toolset: 'logs',
  description:
    'Summarises CPU, memory, requests over a window; errors over time: get_environment_logs. Returns min, p50, p90, max, latest.',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    metrics: z.array(capped(100)).max(8).optional().describe('Default: all'),
    window: z.enum(METRIC_WINDOWS).default('1h').describe('Time window'),
    series: z.boolean().default(false).describe('Add raw points'),
  }),
  output: z.object({ app: z.string(), environment: z.string(), ...EnvironmentMetricsView.shape }),
  annotations: READ_ONLY,
  handler: async (args, ctx) => {
    const { app, env } = await resolveTarget(ctx, args.app, args.environment);
    const query = { metrics: args.metrics, window: args.window, series: args.series };
    const view = await environmentMetrics(ctx.client, env.uuid, query, ctx.signal);
    return { app: app.slug, environment: env.slug, ...view };
  },
  render: (out) =>
    [
      `Metrics of ${envName(out.app, out.environment)} from ${out.from ?? '?'} to ${out.to ?? '?'}:`,
      ...out.metrics.map(line),
      out.metrics.length === 0 ? 'No metrics.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [envLink(out.app, out.environment)],
});

export const metricsTools = [getEnvironmentMetrics];
