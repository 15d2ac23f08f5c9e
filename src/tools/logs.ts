import * as z from 'zod';
import type { LogEntry } from '../client/index.js';
import { describeHistogram, LogHistogram, logHistogram, MAX_BUCKETS } from '../domain/histogram.js';
import { atLevel, LEVEL_SEARCH, LOG_LEVELS } from '../domain/levels.js';
import { ToolError } from '../mcp/errors.js';
import { logsLink } from '../mcp/links.js';
import { defineTool, READ_ONLY, type ToolContext } from '../mcp/registry.js';
import { capLinesFromEnd, parseTimeArg, truncateLine } from '../text/format.js';
import { envName, fence, sanitize } from '../text/index.js';
import { openLink, pageInfo, resolveTarget } from './common.js';
import { AppRef, Cursor, EnvRef, PlatformText } from './schemas.js';

export const LogLine = z.object({
  timestamp: z.string(),
  service: PlatformText('log service name'),
  message: PlatformText('log line'),
});
export type LogLineOut = z.infer<typeof LogLine>;

export function cleanEntry(entry: LogEntry): LogLineOut {
  return {
    timestamp: sanitize(String(entry.timestamp ?? '')),
    service: sanitize(String(entry.service ?? '')),
    // A line written with a trailing carriage return (progress output, `\r\n` endings) ends in a line break
    // once sanitized; trailing whitespace is dropped so it shows no blank line after it.
    message: truncateLine(sanitize(String(entry.message ?? '')).trimEnd()),
  };
}

export function formatLogLine(e: LogLineOut): string {
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
  entries: LogLineOut[];
  /** How many of the oldest entries were left out to stay under the size cap. */
  cut: number;
  /** Continuation towards older entries, or null. */
  olderUrl: string | null;
}

/**
 * Fetches one page of runtime logs, sanitised and capped to `maxBytes`, newest entries kept. `link` continues
 * from an earlier page: the API's own link, taken from a verified cursor.
 */
export async function fetchLogs(
  ctx: Pick<ToolContext, 'client' | 'signal'>,
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
      return ctx.client.environments.logsPage(url.toString(), { signal: ctx.signal });
    }
    return ctx.client.environments.logs(
      envUuid,
      {
        limit,
        ...(query.since ? { from_ts: query.since.toISOString() } : {}),
        ...(query.until ? { to_ts: query.until.toISOString() } : {}),
        ...(query.service ? { service: query.service } : {}),
        ...(query.search ? { search_query: query.search } : {}),
      },
      { signal: ctx.signal },
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

const getEnvironmentLogs = defineTool({
  name: 'get_environment_logs',
  title: 'Get environment logs',
  toolset: 'logs',
  description:
    'Reads runtime logs, filtered by time, service, text or level; buckets counts them over time (when errors started). Build output: get_deployment_log. Returns entries oldest first, capped (a note says how to narrow); next_cursor pages back in time.',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    since: z.string().max(40).optional().describe('ISO 8601 or 15m, 2h, 1d ago; omit for the newest'),
    until: z.string().max(40).optional().describe('ISO 8601 or relative'),
    service: z.string().min(1).max(64).optional().describe('e.g. web, worker, cronjob'),
    search: z.string().min(3).max(32).optional().describe('Text the entries contain'),
    level: z.enum(LOG_LEVELS).optional().describe('Only error or warning lines'),
    buckets: z
      .number()
      .int()
      .min(1)
      .max(MAX_BUCKETS)
      .optional()
      .describe('Also count matches in N time buckets since..until (default 24 h): when they started, peak'),
    limit: z.number().int().min(1).max(1000).default(100).describe('Entries per page'),
    cursor: Cursor,
  }),
  output: z.object({
    app: z.string(),
    environment: z.string(),
    entries: z.array(LogLine),
    cut: z.number(),
    note: z.string().nullable(),
    histogram: LogHistogram.nullable().describe('Present when buckets was given'),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  }),
  annotations: READ_ONLY,
  handler: async (args, ctx) => {
    const { app, env } = await resolveTarget(ctx, args.app, args.environment);
    const now = Date.now();
    const since = args.since ? parseTimeArg('since', args.since, now) : undefined;
    const until = args.until ? parseTimeArg('until', args.until, now) : undefined;
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
        ctx,
        env.uuid,
        { since, until, service: args.service, search, limit: args.limit },
        args.cursor ? openLink(ctx, scope, args.cursor) : undefined,
        ctx.config.maxLogBytes,
      ),
      args.buckets
        ? logHistogram(
            ctx.client,
            env.uuid,
            {
              from: since ?? new Date((until?.getTime() ?? now) - 24 * 3_600_000),
              to: until ?? new Date(now),
              buckets: args.buckets,
              search,
              service: args.service,
            },
            ctx.signal,
          )
        : null,
    ]);
    if (level && args.search) page.entries = page.entries.filter((e) => atLevel(e.message, level));
    const note =
      page.cut > 0
        ? `${page.cut} older entries were cut to keep the log text under ${Math.round(ctx.config.maxLogBytes / 1000)} kB. Narrow with since/until, service or search, lower limit, or pass next_cursor to read them.`
        : page.entries.length === 0
          ? 'No log entries match. Widen the window (since), drop filters, or check that the environment is deployed.'
          : null;
    return {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      entries: page.entries,
      cut: page.cut,
      note,
      histogram,
      ...pageInfo(ctx, scope, { next: page.olderUrl }),
    };
  },
  render: (out) =>
    [
      `${out.entries.length} log entries from ${envName(out.app, out.environment)} (oldest first).`,
      out.histogram ? `Histogram: ${describeHistogram(out.histogram)}` : '',
      out.note ?? '',
      out.entries.length > 0 ? fence('runtime log output', out.entries.map(formatLogLine).join('\n')) : '',
      out.has_more ? 'Older entries: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [logsLink(out.app, out.environment)],
});

export const logsTools = [getEnvironmentLogs];
