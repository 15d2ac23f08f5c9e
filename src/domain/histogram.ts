import * as z from 'zod';
import type { DivioClient, LogOccurrence } from '../client/index.js';

// "When did the errors start": matching log lines counted in equal time buckets (GetEnvironmentLogsOccurrence).

export const MAX_BUCKETS = 30;

const Bucket = z.object({
  from: z.string().describe('Start of the bucket (ISO 8601, UTC)'),
  count: z.number().int().describe('Matching log lines in the bucket'),
});

export const LogHistogram = z.object({
  from: z.string(),
  to: z.string(),
  bucket_seconds: z.number(),
  total: z.number().int(),
  buckets: z.array(Bucket).describe('Oldest first'),
  peak: Bucket.nullable().describe('The bucket with the most lines (the earliest of equals); null when none'),
  first_nonzero: Bucket.nullable().describe('The first bucket with any line; null when none'),
  current_run_from: z
    .string()
    .nullable()
    .describe(
      'Start of the uninterrupted run of non-empty buckets that reaches the end of the window: when the current burst began (null when the last bucket is empty)',
    ),
});
export type LogHistogram = z.infer<typeof LogHistogram>;

export interface HistogramQuery {
  from: Date;
  to: Date;
  buckets: number;
  search?: string | undefined;
  service?: string | undefined;
}

/** A bucket's start: the API's own timestamp when it sent one, else its place in the window (inferred shape). */
function startOf(item: LogOccurrence, fallbackMs: number): string {
  for (const value of [item.from_ts, item.timestamp, item.key_as_string]) {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  return new Date(fallbackMs).toISOString();
}

function countOf(item: LogOccurrence): number {
  const n = item.count ?? item.doc_count ?? 0;
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

/** Counts of matching log lines of an environment in `buckets` equal time ranges, with the peak and the onset. */
export async function logHistogram(
  client: DivioClient,
  envUuid: string,
  query: HistogramQuery,
  signal?: AbortSignal,
): Promise<LogHistogram> {
  const { occurrences } = await client.environments.logsOccurrence(
    envUuid,
    {
      number_of_buckets: query.buckets,
      from_ts: query.from.toISOString(),
      to_ts: query.to.toISOString(),
      search_query: query.search,
      service: query.service,
    },
    { signal },
  );
  const fromMs = query.from.getTime();
  const spanMs = query.to.getTime() - fromMs;
  const width = occurrences.length > 0 ? spanMs / occurrences.length : spanMs;
  const buckets = occurrences
    .map((item, i) => ({ from: startOf(item, fromMs + i * width), count: countOf(item) }))
    .sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
  let peak: z.infer<typeof Bucket> | null = null;
  for (const b of buckets) if (b.count > 0 && (!peak || b.count > peak.count)) peak = b;
  let run = buckets.length;
  while (run > 0 && (buckets[run - 1]?.count ?? 0) > 0) run--;
  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    bucket_seconds: Math.round(width / 1000),
    total: buckets.reduce((sum, b) => sum + b.count, 0),
    buckets,
    peak,
    first_nonzero: buckets.find((b) => b.count > 0) ?? null,
    current_run_from: run < buckets.length ? (buckets[run]?.from ?? null) : null,
  };
}

/** One line per finding, for the text a person reads. */
export function describeHistogram(h: LogHistogram): string {
  if (h.total === 0) return `No matching lines between ${h.from} and ${h.to}.`;
  const parts = [`${h.total} matching lines in ${h.buckets.length} buckets of ${h.bucket_seconds} s`];
  if (h.first_nonzero) parts.push(`first at ${h.first_nonzero.from}`);
  if (h.peak) parts.push(`peak ${h.peak.count} at ${h.peak.from}`);
  if (h.current_run_from) {
    const ongoingSinceStart = h.current_run_from === h.buckets[0]?.from;
    parts.push(
      ongoingSinceStart
        ? 'present in every bucket (it started before the window)'
        : `ongoing since ${h.current_run_from}`,
    );
  }
  return `${parts.join('; ')}.`;
}
