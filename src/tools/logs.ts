import * as z from 'zod';
import { describeHistogram, MAX_BUCKETS } from '../domain/histogram.js';
import { LOG_LEVELS } from '../domain/levels.js';
import { EnvironmentLogs, environmentLogs, formatLogLine } from '../domain/logs.js';
import { logsLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, fence } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, capped, copied, EnvRef } from './schemas.js';

const getEnvironmentLogs = defineTool({
  name: 'get_environment_logs',
  title: 'Get environment logs',
  toolset: 'logs',
  description:
    'Reads runtime logs by time, service, level and text; buckets counts them over time (when errors started). Build output: get_deployment_log. Returns entries oldest first, capped; next_cursor goes back in time.',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    since: capped(40).optional().describe('Start time; omit for the newest'),
    until: capped(40).optional().describe('End time; omit for now'),
    service: copied(64, 'a service name').optional().describe('e.g. web, worker, cronjob'),
    search: z.string().min(3).max(32).optional().describe('Text the entries contain'),
    level: z.enum(LOG_LEVELS).optional().describe('Only error or warning lines'),
    buckets: z
      .number()
      .int()
      .min(1)
      .max(MAX_BUCKETS)
      .optional()
      .describe('Histogram of matches in N buckets over since..until (default 24 h)'),
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
