import * as z from 'zod';
import { describeHistogram, MAX_BUCKETS } from '../domain/histogram.js';
import { LOG_LEVELS } from '../domain/levels.js';
import { EnvironmentLogs, environmentLogs, formatLogLine } from '../domain/logs.js';
import { logsLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, fence } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, EnvRef } from './schemas.js';

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
  output: EnvironmentLogs,
  annotations: READ_ONLY,
  handler: ({ cursor, ...args }, ctx) =>
    environmentLogs(ctx, args, pages(ctx, cursor), ctx.config.maxLogBytes),
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
