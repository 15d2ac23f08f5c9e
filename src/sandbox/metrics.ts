import type { Ctx, Result } from './http.js';
import type { Environment, SandboxState } from './state.js';
import { HttpError, parseIsoUtc, prng, uuidFromName } from './util.js';

/*
 * Environment metrics. ListEnvironmentMetricMetadata (`/apps/v3/environment-metric-metadata/`) describes the
 * metrics with the reference's fields; GetEnvironmentMetrics (`/apps/v3/environments/{id}/metrics/`, an
 * inferred path) answers `{metrics, from_ts, to_ts, interval}` as the reference shows. The reference collapses
 * `metrics`; here it maps each requested identifier to `[[<unix seconds>, <value>], ...]` (inferred, the
 * Prometheus range-query spelling). Values are a deterministic function of environment, metric and time, and
 * follow the seeded incidents (shop/live's database storm of the last 14 minutes before start).
 */

export interface MetricMetadata {
  uuid: string;
  identifier: string;
  is_visible: boolean;
  title: string;
  description: string;
  chart_name: string;
  chart_display: 'line' | 'bar' | 'area';
  unit: string;
  unit_numerator: string;
  unit_denominator: string;
}

const meta = (
  identifier: string,
  title: string,
  description: string,
  unit: string,
  numerator = '',
  denominator = '',
  visible = true,
): MetricMetadata => ({
  uuid: uuidFromName(`environment-metric:${identifier}`),
  identifier,
  is_visible: visible,
  title,
  description,
  chart_name: identifier.split('_')[0] ?? identifier,
  chart_display: 'line',
  unit,
  unit_numerator: numerator,
  unit_denominator: denominator,
});

// inferred: the identifiers, titles and units are ours; the reference shows only the field names
export const METRIC_METADATA: readonly MetricMetadata[] = [
  meta('cpu_usage', 'CPU usage', 'CPU used by the environment’s containers, in percent of the limit', '%'),
  meta('memory_usage', 'Memory usage', 'Memory used by the environment’s containers', 'MiB'),
  meta('request_rate', 'Requests', 'HTTP requests served', '', 'requests', 's'),
  meta('response_time_p95', 'Response time (p95)', '95th percentile of HTTP response times', 'ms'),
  meta('error_rate', 'Server errors', 'HTTP responses with a 5xx status', '', 'responses', 'min'),
  meta(
    'container_restarts',
    'Container restarts',
    'Restarts of the environment’s containers',
    '',
    '',
    '',
    false,
  ),
];

const PRESETS: Record<string, { spanMs: number; intervalS: number }> = {
  '1h': { spanMs: 3_600_000, intervalS: 60 },
  '6h': { spanMs: 6 * 3_600_000, intervalS: 300 },
  '12h': { spanMs: 12 * 3_600_000, intervalS: 600 },
  '24h': { spanMs: 24 * 3_600_000, intervalS: 1200 },
  '7d': { spanMs: 7 * 24 * 3_600_000, intervalS: 10_800 },
};

const MAX_POINTS = 500;

/** The value of one metric at one instant: a daily wave, seeded noise and the environment's incidents. */
function valueAt(s: SandboxState, env: Environment, appSlug: string, metric: string, ms: number): number {
  const key = `${appSlug}/${env.slug}`;
  const minute = Math.floor(ms / 60_000);
  const noise = prng(`metric:${key}:${metric}:${minute}`)();
  const day = Math.sin(((ms % 86_400_000) / 86_400_000) * 2 * Math.PI - Math.PI / 2); // low at night (UTC)
  const load = (env.slug === 'live' ? 1 : 0.15) * (1 + 0.5 * day);
  const storm = key === 'shop/live' && ms >= s.startedAt - 14 * 60_000;
  switch (metric) {
    case 'cpu_usage':
      return round(Math.min(100, 8 + 35 * load + 10 * noise + (storm ? 40 : 0)), 1);
    case 'memory_usage':
      // a slow leak reset by each restart, every 6 h
      return round(380 + 120 * ((ms % 21_600_000) / 21_600_000) + 25 * noise, 0);
    case 'request_rate':
      return round(Math.max(0, 12 * load + 3 * noise), 2);
    case 'response_time_p95':
      return round(storm ? 5000 + 20_000 * noise : 120 + 180 * load + 60 * noise, 0);
    case 'error_rate':
      return round(storm ? 150 + 80 * noise : noise < 0.05 ? 1 : 0, 0);
    default:
      return noise < 0.02 ? 1 : 0;
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** ListEnvironmentMetricMetadata items (the same metrics for every environment). */
export function metricMetadata(): MetricMetadata[] {
  return METRIC_METADATA.map((m) => ({ ...m }));
}

function parseTime(raw: string | null): number | null | undefined {
  if (raw === null || raw === '') return undefined;
  // the reference types from_ts/to_ts as plain strings; ISO 8601 (zone-less = UTC) or unix seconds accepted (inferred)
  if (/^\d{9,11}(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const ms = parseIsoUtc(raw);
  return Number.isNaN(ms) ? null : ms;
}

/** GetEnvironmentMetrics. */
export function environmentMetrics(ctx: Ctx, env: Environment): Result {
  const q = ctx.query;
  const s = ctx.state;
  const errors: Record<string, string[]> = {};
  const requested = q.getAll('metric').filter((m) => m !== '');
  const known = new Set(METRIC_METADATA.map((m) => m.identifier));
  if (requested.length === 0) errors['metric'] = ['This field is required.'];
  const unknown = requested.find((m) => !known.has(m));
  // inferred: the wording of a MultipleChoiceField refusal in DRF
  if (unknown) errors['metric'] = [`"${unknown}" is not a valid choice.`];
  const preset = q.get('time_window_preset');
  if (preset !== null && !(preset in PRESETS))
    errors['time_window_preset'] = [`"${preset}" is not a valid choice.`];
  const from = parseTime(q.get('from_ts'));
  const to = parseTime(q.get('to_ts'));
  if (from === null) errors['from_ts'] = ['Enter a valid date/time.'];
  if (to === null) errors['to_ts'] = ['Enter a valid date/time.'];
  if (Object.keys(errors).length > 0) throw new HttpError(400, errors);

  const now = s.now();
  let endMs: number;
  let startMs: number;
  let intervalS: number;
  if (from !== undefined && from !== null) {
    // inferred: an explicit window wins over a preset; the interval keeps it within 60..MAX_POINTS points
    endMs = Math.min(to ?? now, now);
    startMs = from;
    if (startMs >= endMs)
      throw new HttpError(400, { non_field_errors: ['from_ts must be earlier than to_ts.'] });
    intervalS = Math.max(60, Math.ceil((endMs - startMs) / 1000 / 60 / 60) * 60);
  } else {
    // inferred: 1h when neither a preset nor a window is given
    const p = PRESETS[preset ?? '1h'] ?? { spanMs: 3_600_000, intervalS: 60 };
    endMs = Math.min(to ?? now, now);
    startMs = endMs - p.spanMs;
    intervalS = p.intervalS;
  }
  const step = intervalS * 1000;
  const first = Math.ceil(startMs / step) * step;
  const app = s.applications.get(env.application);
  const metrics: Record<string, [number, number][]> = {};
  for (const id of requested) {
    const points: [number, number][] = [];
    for (let t = first; t <= endMs && points.length < MAX_POINTS; t += step) {
      points.push([Math.round(t / 1000), valueAt(s, env, app?.slug ?? '', id, t)]);
    }
    metrics[id] = points;
  }
  return {
    status: 200,
    body: {
      metrics,
      from_ts: new Date(startMs).toISOString(),
      to_ts: new Date(endMs).toISOString(),
      interval: intervalS,
    },
  };
}
