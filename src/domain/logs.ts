import * as z from 'zod';
import type { LogEntry } from '../client/index.js';
import { capLinesFromEnd, truncateLine } from '../text/format.js';
import { sanitize } from '../text/index.js';
import { type Api, type Pager, timeWindow } from './context.js';
import { ToolError } from './errors.js';
import { LogHistogram, logHistogram } from './histogram.js';
import { atLevel, LEVEL_SEARCH, type LOG_LEVELS } from './levels.js';
import { PlatformText } from './shapes.js';
import { resolveTarget } from './targets.js';

export const LogLine = z.object({
  timestamp: z.string(),
  service: PlatformText('log service name'),
  message: PlatformText('log line'),
});
export type LogLine = z.infer<typeof LogLine>;

export function cleanEntry(entry: LogEntry): LogLine {
  return {
    timestamp: sanitize(String(entry.timestamp ?? '')),
    service: sanitize(String(entry.service ?? '')),
    // A line written with a trailing carriage return (progress output, `\r\n` endings) ends in a line break
    // once sanitized; trailing whitespace is dropped so it shows no blank line after it.
    message: truncateLine(sanitize(String(entry.message ?? '')).trimEnd()),
  };
}

/** One log entry on one line; also what the size cap measures. */
export function formatLogLine(e: LogLine): string {
  return `${e.timestamp} ${e.service} | ${e.message}`;
}

export interface LogQuery {
  since?: Date | undefined;
  until?: Date | undefined;
  service?: string | undefined;
  search?: string | undefined;
  limit: number;
}

export interface LogsPage {
  entries: LogLine[];
  /** How many of the oldest entries were left out to stay under the size cap. */
  cut: number;
  /** Continuation towards older entries, or null. */
  olderUrl: string | null;
}

/**
 * Fetches one page of runtime logs, sanitised and capped to `maxBytes`, newest entries kept. `link` continues
 * from an earlier page: the API's own link, taken from a verified continuation.
 */
export async function fetchLogs(
  api: Api,
  envUuid: string,
  query: LogQuery,
  link: string | undefined,
  maxBytes: number,
): Promise<LogsPage> {
  const fetchPage = (limit: number) => {
    if (link) {
      // The link is the API's own; only its page size is ours to set.
      const url = new URL(link);
      url.searchParams.set('limit', String(limit));
      return api.client.environments.logsPage(url.toString(), api);
    }
    return api.client.environments.logs(
      envUuid,
      {
        limit,
        ...(query.since ? { from_ts: query.since.toISOString() } : {}),
        ...(query.until ? { to_ts: query.until.toISOString() } : {}),
        ...(query.service ? { service: query.service } : {}),
        ...(query.search ? { search_query: query.search } : {}),
      },
      api,
    );
  };
  const capPage = (results: readonly LogEntry[]) => {
    const all = results.map(cleanEntry);
    const { kept, dropped } = capLinesFromEnd(all.map(formatLogLine), maxBytes);
    return { entries: all.slice(all.length - kept.length), dropped, newest: all[all.length - 1] };
  };
  let page = await fetchPage(query.limit);
  let { entries, dropped } = capPage(page.results);
  if (dropped === 0) {
    // The API always returns a `previous` link; only a full page means older entries may exist.
    const more = page.results.length >= query.limit && page.previous;
    return { entries, cut: 0, olderUrl: more ? page.previous : null };
  }
  // Too big: ask again for exactly as many entries as fit, so the API's own cursor continues right before
  // them. Continuing by timestamp instead would repeat entries that share one (every traceback's lines do).
  const cut = dropped;
  page = await fetchPage(Math.max(1, entries.length));
  ({ entries } = capPage(page.results));
  const single = capPage(page.results).newest;
  if (entries.length === 0 && single) {
    // One entry larger than the whole cap: show its start rather than nothing.
    entries = [{ ...single, message: `${single.message.slice(0, Math.max(100, maxBytes - 200))}… [cut]` }];
  }
  return { entries, cut, olderUrl: page.previous ?? null };
}

export const EnvironmentLogs = z.object({
  app: z.string(),
  environment: z.string(),
  entries: z.array(LogLine),
  cut: z.number(),
  note: z.string().nullable(),
  histogram: LogHistogram.nullable().describe('Present when buckets was given'),
  has_more: z.boolean(),
  next_cursor: z.string().nullable(),
});

export interface EnvironmentLogsQuery {
  app: string;
  environment: string;
  since?: string | undefined;
  until?: string | undefined;
  service?: string | undefined;
  search?: string | undefined;
  level?: (typeof LOG_LEVELS)[number] | undefined;
  /** Also count matches in this many time buckets since..until (default the last 24 h). */
  buckets?: number | undefined;
  limit: number;
}

/** Runtime logs of an environment, oldest first, filtered; pages go back in time. */
export async function environmentLogs(
  api: Api,
  args: EnvironmentLogsQuery,
  pager: Pager,
  maxBytes: number,
): Promise<z.infer<typeof EnvironmentLogs>> {
  const { app, env } = await resolveTarget(api, args.app, args.environment);
  const { now, since, until } = timeWindow(api, args);
  if (since && until && since.getTime() >= until.getTime()) {
    throw new ToolError(
      `since (${since.toISOString()}) is not before until (${until.toISOString()}). Swap them, or omit until to read up to now.`,
    );
  }
  const { level } = args;
  // The API takes one search term: the level's, unless the caller's own search needs it (then the level is
  // checked on the page's lines).
  const search = args.search ?? (level ? LEVEL_SEARCH[level] : undefined);
  const scope = {
    app: app.uuid,
    environment: env.uuid,
    filters: { since: args.since, until: args.until, service: args.service, search: args.search, level },
  };
  const [page, histogram] = await Promise.all([
    fetchLogs(
      api,
      env.uuid,
      { since, until, service: args.service, search, limit: args.limit },
      pager.open(scope),
      maxBytes,
    ),
    args.buckets
      ? logHistogram(
          api.client,
          env.uuid,
          {
            from: since ?? new Date((until?.getTime() ?? now) - 24 * 3_600_000),
            to: until ?? new Date(now),
            buckets: args.buckets,
            search,
            service: args.service,
          },
          api.signal,
        )
      : null,
  ]);
  if (level && args.search) page.entries = page.entries.filter((e) => atLevel(e.message, level));
  const note =
    page.cut > 0
      ? `${page.cut} older entries were cut to keep the log text under ${Math.round(maxBytes / 1000)} kB. Narrow with since/until, service or search, lower limit, or pass next_cursor to read them.`
      : page.entries.length === 0
        ? 'No log entries match. Widen the window (since), drop filters, or check that the environment is deployed.'
        : null;
  return {
    app: app.slug,
    environment: env.slug,
    entries: page.entries,
    cut: page.cut,
    note,
    histogram,
    ...pager.info(scope, page.olderUrl),
  };
}

/** The newest runtime logs of an environment since `windowMs` ago, for the logs resource. */
export async function recentLogs(
  api: Api,
  appRef: string,
  envRef: string,
  windowMs: number,
  limit: number,
  maxBytes: number,
): Promise<LogsPage & { app: string; environment: string }> {
  const { app, env } = await resolveTarget(api, appRef, envRef);
  const since = new Date(api.client.now() - windowMs);
  const page = await fetchLogs(api, env.uuid, { since, limit }, undefined, maxBytes);
  return { ...page, app: app.slug, environment: env.slug };
}
