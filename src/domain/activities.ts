import * as z from 'zod';
import { type Activity, type DivioClient, type Page, timestampMicros } from '../client/index.js';
import { inline } from '../text/index.js';
import { type Api, type Pager, timeWindow } from './context.js';
import { PageInfo } from './shapes.js';
import { envSlugMap } from './targets.js';

// Who did what on an application (ListApplicationActivities): deploys, backups, restores, variable changes.
// The API filters by type and user name; a time window has no API parameter, so it is applied here, one page at
// a time, relying on the list being newest first (inferred: the reference does not say, and Divio's
// deployments list is the only one whose order a public client relies on).

export const ActivityRow = z.object({
  uuid: z.string(),
  at: z.string().nullable(),
  type: z.string().nullable(),
  user: z.string().nullable().describe('Who did it (user_name)'),
  environment: z.string().nullable().describe('Environment ID or slug, when the activity names one'),
  description: z.string().nullable(),
});
export type ActivityRow = z.infer<typeof ActivityRow>;

export interface ActivityQuery {
  application: string;
  type?: string | undefined;
  user?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit: number;
}

export interface ActivityPage {
  rows: ActivityRow[];
  /** The API's link to older activities, or null when the window (or the list) ends on this page. */
  next: string | null;
}

function environmentOf(context: unknown): string | null {
  if (!context || typeof context !== 'object') return null;
  const env = (context as Record<string, unknown>)['environment'];
  if (typeof env === 'string') return env;
  if (env && typeof env === 'object' && typeof (env as { uuid?: unknown }).uuid === 'string')
    return (env as { uuid: string }).uuid;
  return null;
}

function row(a: Activity): ActivityRow {
  return {
    uuid: a.uuid,
    at: a.created_at ?? null,
    type: a.type ? inline(a.type, 80) : null,
    user: a.user_name ? inline(a.user_name, 120) : null,
    environment: environmentOf(a.context),
    description: a.description ? inline(a.description, 300) : null,
  };
}

/** The first page of activities (or the page at `link`), newest first, kept to since..until. */
export async function activityPage(
  client: DivioClient,
  query: ActivityQuery,
  link: string | undefined,
  signal?: AbortSignal,
): Promise<ActivityPage> {
  const page: Page<Activity> = link
    ? await client.getPageByUrl<Activity>(link, undefined, signal)
    : await client.applicationActivities.list(
        {
          application: query.application,
          type: query.type,
          user_name: query.user,
          page_size: query.limit,
        },
        { signal },
      );
  const since = query.since ? query.since.getTime() * 1000 : null;
  const until = query.until ? query.until.getTime() * 1000 : null;
  const rows = page.results
    .map((a) => ({ a, t: timestampMicros(a.created_at) }))
    .sort((x, y) => (y.t ?? 0) - (x.t ?? 0));
  const oldest = rows.at(-1)?.t ?? null;
  const kept = rows.filter(
    ({ t }) => t !== null && (since === null || t >= since) && (until === null || t <= until),
  );
  return {
    rows: kept.map(({ a }) => row(a)),
    next: since !== null && oldest !== null && oldest < since ? null : page.next,
  };
}

export const ActivityList = z.object({ app: z.string(), activities: z.array(ActivityRow), ...PageInfo });

export interface ActivityArgs {
  app: string;
  since?: string | undefined;
  until?: string | undefined;
  type?: string | undefined;
  user?: string | undefined;
  limit: number;
}

/** Who did what on an application, newest first, one page; environments named by slug where known. */
export async function listActivities(
  api: Api,
  { app: appRef, ...args }: ActivityArgs,
  pager: Pager,
): Promise<z.infer<typeof ActivityList>> {
  const app = await api.client.resolveApplication(appRef, api.signal);
  const { since, until } = timeWindow(api, args);
  const scope = { app: app.uuid, filters: { ...args, limit: undefined } };
  const query = { ...args, application: app.uuid, since, until };
  const [page, slugs] = await Promise.all([
    activityPage(api.client, query, pager.open(scope), api.signal),
    envSlugMap(api, app),
  ]);
  const activities = page.rows.map((r) => ({
    ...r,
    environment: slugs.get(r.environment ?? '') ?? r.environment,
  }));
  return { app: app.slug, activities, ...pager.info(scope, page.next) };
}
