import * as z from 'zod';
import { ActivityList, listActivities as activityList } from '../domain/activities.js';
import { appLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { ident, quote } from '../text/index.js';
import { pages } from './common.js';
import { AppRef, Cursor, capped, Limit } from './schemas.js';

const listActivities = defineTool({
  name: 'list_activities',
  title: 'List activities',
  toolset: 'apps',
  description:
    'Lists who did what on an app, newest first; deploy outcomes: list_deployments. Returns user, type, time; paginated (next_cursor).',
  input: z.strictObject({
    app: AppRef,
    since: capped(40).optional().describe('ISO 8601 or 1d'),
    until: capped(40).optional().describe('ISO 8601 or 1h'),
    type: capped(64).optional().describe('e.g. deployment'),
    user: capped(120).optional().describe('User name'),
    limit: Limit,
    cursor: Cursor,
  }),
  output: ActivityList,
  annotations: READ_ONLY,
  handler: ({ cursor, ...args }, ctx) => activityList(ctx, args, pages(ctx, cursor)),
  render: (out) =>
    [
      `Activities of ${ident(out.app)} (newest first):`,
      ...out.activities.map(
        (a) =>
          `- ${ident(a.at)} ${quote(a.user, 120, 'unknown user')} ${ident(a.type)}${a.environment ? ` on ${ident(a.environment)}` : ''}: ${quote(a.description)}`,
      ),
      out.activities.length === 0 ? 'None in this window.' : '',
      out.has_more ? 'Older: pass next_cursor.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [appLink(out.app)],
});

export const activityTools = [listActivities];
