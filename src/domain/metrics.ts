import * as z from 'zod';
import { type DivioClient, DivioError, type MetricMetadata, type MetricWindow } from '../client/index.js';
import { inline } from '../text/index.js';

// CPU, memory, requests... of an environment over a window, summarised for a person: min, p50, p90, max and the
// latest value per metric, with its unit. Metric names come from ListEnvironmentMetricMetadata; the series from
// GetEnvironmentMetrics. The raw series is returned only on request, evenly thinned to a cap.

export const MAX_METRICS = 8;
export const MAX_SERIES_POINTS = 60;

const Point = z.object({ at: z.string(), value: z.number() });

export const MetricSummary = z.object({
  name: z.string().describe('Metric identifier (pass it in metrics)'),
  title: z.string().nullable(),
  unit: z.string().nullable().describe('e.g. %, MiB, ms, requests/s'),
  points: z.number().int().describe('Data points in the window'),
  min: z.number().nullable(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  max: z.number().nullable(),
  latest: z.number().nullable(),
  latest_at: z.string().nullable(),
  series: z.array(Point).nullable().describe('Only when series was asked for; evenly thinned to the cap'),
});
export type MetricSummary = z.infer<typeof MetricSummary>;

export const EnvironmentMetricsView = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  interval_seconds: z.number().nullable(),
  metrics: z.array(MetricSummary),
  available: z.array(z.string()).describe('Every visible metric of the environment'),
});
export type EnvironmentMetricsView = z.infer<typeof EnvironmentMetricsView>;

/** A metric the caller named that the environment does not have; the message lists the ones it has. */
export class UnknownMetricError extends DivioError {
  constructor(unknown: string[], available: string[]) {
    super(
      `No metric named ${unknown.map((n) => `'${inline(n, 80)}'`).join(', ')} on this environment. Available: ${available.map((n) => inline(n, 80)).join(', ') || 'none'}.`,
      'unknown_metric',
    );
  }
}

export interface MetricsQuery {
  /** Identifiers; default: the visible ones, up to MAX_METRICS. */
  metrics?: string[] | undefined;
  window?: MetricWindow | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  series?: boolean | undefined;
}

function unitOf(m: MetricMetadata): string | null {
  if (m.unit) return inline(m.unit, 40);
  if (m.unit_numerator && m.unit_denominator) return inline(`${m.unit_numerator}/${m.unit_denominator}`, 40);
  return m.unit_numerator ? inline(m.unit_numerator, 40) : null;
}

/** Epoch ms of a series timestamp: unix seconds, epoch ms, or ISO 8601. */
function timeOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') {
    if (/^\d+(\.\d+)?$/.test(value)) return timeOf(Number(value));
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

function numberOf(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/**
 * The points of one series, oldest first. The reference collapses `metrics`, so its spelling is inferred: the
 * sandbox sends `[[<unix seconds>, <value>], ...]`; `{timestamp|time|ts|x, value|y}` items and an object holding
 * them under `values`, `data` or `points` are read too. Points without a time or a finite value are skipped.
 */
export function readSeries(raw: unknown): { ms: number; value: number }[] {
  let items: unknown = raw;
  if (items && typeof items === 'object' && !Array.isArray(items)) {
    const o = items as Record<string, unknown>;
    items = o['values'] ?? o['data'] ?? o['points'] ?? [];
  }
  if (!Array.isArray(items)) return [];
  const out: { ms: number; value: number }[] = [];
  for (const item of items) {
    let t: unknown;
    let v: unknown;
    if (Array.isArray(item)) [t, v] = item;
    else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      t = o['timestamp'] ?? o['time'] ?? o['ts'] ?? o['x'];
      v = o['value'] ?? o['y'];
    }
    const ms = timeOf(t);
    const value = numberOf(v);
    if (ms !== null && value !== null) out.push({ ms, value });
  }
  return out.sort((a, b) => a.ms - b.ms);
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
}

function round(n: number | null): number | null {
  return n === null ? null : Math.round(n * 1000) / 1000;
}

/** Evenly spaced points of a series, first and last kept, at most `cap`. */
function thin<T>(items: T[], cap: number): T[] {
  if (items.length <= cap) return items;
  const out: T[] = [];
  for (let i = 0; i < cap; i++) {
    const item = items[Math.round((i * (items.length - 1)) / (cap - 1))];
    if (item !== undefined) out.push(item);
  }
  return out;
}

export function summarise(
  name: string,
  meta: MetricMetadata | undefined,
  raw: unknown,
  withSeries: boolean,
): MetricSummary {
  const points = readSeries(raw);
  const values = points.map((p) => p.value).sort((a, b) => a - b);
  const last = points.at(-1);
  return {
    name,
    title: meta?.title ? inline(meta.title, 120) : null,
    unit: meta ? unitOf(meta) : null,
    points: points.length,
    min: round(values[0] ?? null),
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    max: round(values.at(-1) ?? null),
    latest: round(last?.value ?? null),
    latest_at: last ? new Date(last.ms).toISOString() : null,
    series: withSeries
      ? thin(points, MAX_SERIES_POINTS).map((p) => ({ at: new Date(p.ms).toISOString(), value: p.value }))
      : null,
  };
}

function isoOf(value: unknown): string | null {
  const ms = timeOf(value);
  return ms === null ? null : new Date(ms).toISOString();
}

/** Summaries of an environment's metrics over a preset window (default 1h) or from..to. */
export async function environmentMetrics(
  client: DivioClient,
  envUuid: string,
  query: MetricsQuery,
  signal?: AbortSignal,
): Promise<EnvironmentMetricsView> {
  const page = await client.environmentMetricMetadata.list(
    { environment: envUuid, page_size: 100 },
    { signal },
  );
  const visible = page.results.filter((m) => m.is_visible !== false);
  const byName = new Map(page.results.map((m) => [m.identifier, m]));
  const available = visible.map((m) => m.identifier);
  const wanted = query.metrics?.length ? query.metrics : available.slice(0, MAX_METRICS);
  const unknown = wanted.filter((n) => !byName.has(n));
  if (unknown.length > 0) throw new UnknownMetricError(unknown, available);
  if (wanted.length === 0) return { from: null, to: null, interval_seconds: null, metrics: [], available };
  const answer = await client.environments.metrics(
    envUuid,
    {
      metric: wanted,
      ...(query.from
        ? { from_ts: query.from.toISOString(), to_ts: (query.to ?? new Date()).toISOString() }
        : { time_window_preset: query.window ?? '1h' }),
    },
    { signal },
  );
  const series = answer.metrics ?? {};
  return {
    from: isoOf(answer.from_ts),
    to: isoOf(answer.to_ts),
    interval_seconds: typeof answer.interval === 'number' ? answer.interval : null,
    metrics: wanted.map((n) => summarise(n, byName.get(n), series[n], query.series === true)),
    available,
  };
}
