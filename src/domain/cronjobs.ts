import * as z from 'zod';
import { type Api, onePage, type Pager } from './context.js';
import { CronRun, lastCronRuns } from './cron.js';
import { PageInfo, PlatformText } from './shapes.js';
import { resolveTarget } from './targets.js';

// Inferred: CreateCronjob's `time` ("02:30" for DAILY, ":42" for HOURLY) carries no zone and the reference
// names none; the platform's servers and its log timestamps run in UTC, so the times are read as UTC.
const CRON_TIME_ZONE = 'UTC' as const;

export const CronjobList = z.object({
  app: z.string(),
  environment: z.string(),
  cronjobs: z.array(
    z.object({
      uuid: z.string(),
      command: PlatformText('cronjob command'),
      frequency: z.string(),
      time: z
        .string()
        .nullable()
        .describe('DAILY: time of day (02:30); HOURLY: minute of the hour (:42); in time_zone'),
      time_zone: z.literal('UTC'),
      timeout_seconds: z.number().nullable(),
      last_runs: z.array(CronRun).nullable().describe('Newest first; with runs only'),
    }),
  ),
  ...PageInfo,
});

/** The cronjobs of an environment, one page. */
export async function listCronjobs(
  api: Api,
  args: { app: string; environment: string; runs?: boolean | undefined; limit: number },
  pager: Pager,
): Promise<z.infer<typeof CronjobList>> {
  const { app, env } = await resolveTarget(api, args.app, args.environment);
  const scope = { app: app.uuid, environment: env.uuid };
  const page = await onePage(api, pager, scope, () =>
    api.client.cronjobs.list({ environment: env.uuid, limit: args.limit }, api),
  );
  const ids = page.results.map((c) => c.uuid);
  const lastRuns = args.runs ? await lastCronRuns(api.client, ids, api.signal) : null;
  return {
    app: app.slug,
    environment: env.slug,
    cronjobs: page.results.map((c) => ({
      uuid: c.uuid,
      command: String(c.command ?? ''),
      frequency: String(c.frequency ?? ''),
      time: typeof c.time === 'string' && c.time ? c.time : null,
      time_zone: CRON_TIME_ZONE,
      timeout_seconds: typeof c.custom_timeout === 'number' ? c.custom_timeout : null,
      last_runs: lastRuns ? (lastRuns.get(c.uuid) ?? []) : null,
    })),
    ...pager.info(scope, page.next),
  };
}
