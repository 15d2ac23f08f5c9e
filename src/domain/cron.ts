import * as z from 'zod';
import type { CronjobRun, DivioClient } from '../client/index.js';
import { timestampMicros } from '../client/index.js';
import { inline } from '../text/index.js';

// Each cronjob's last runs (GetCronjobLogs): start, end, exit code.

export const MAX_RUNS = 5;
const CONCURRENCY = 4;

export const CronRun = z.object({
  started_at: z.string().nullable(),
  finished_at: z.string().nullable().describe('null while running'),
  exit_code: z.number().nullable().describe('0 = success; null while running'),
  seconds: z.number().nullable(),
});
export type CronRun = z.infer<typeof CronRun>;

/** "last run <start>, exit code 0 (42 s)", "running since <start>" or "no run yet". */
export function describeRun(run: CronRun | undefined): string {
  if (!run?.started_at) return 'no run yet';
  if (run.exit_code === null) return `running since ${inline(run.started_at, 40)}`;
  const took = run.seconds !== null ? ` (${run.seconds} s)` : '';
  return `last run ${inline(run.started_at, 40)}, exit code ${run.exit_code}${took}`;
}

function toRun(r: CronjobRun): CronRun {
  const start = timestampMicros(r.started_at);
  const end = timestampMicros(r.finished_at);
  return {
    started_at: r.started_at ?? null,
    finished_at: r.finished_at ?? null,
    exit_code: typeof r.exit_code === 'number' ? r.exit_code : null,
    seconds: start !== null && end !== null ? Math.round((end - start) / 1e6) : null,
  };
}

/** The last runs of each cronjob, newest first, at most MAX_RUNS each; a cronjob that never ran has none. */
export async function lastCronRuns(
  client: DivioClient,
  cronjobs: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, CronRun[]>> {
  const out = new Map<string, CronRun[]>();
  const queue = [...cronjobs];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const runs = (await client.cronjobs.logs(id, { signal }))
        .filter((r) => r.started_at)
        .map(toRun)
        .sort((a, b) => (timestampMicros(b.started_at) ?? 0) - (timestampMicros(a.started_at) ?? 0));
      out.set(id, runs.slice(0, MAX_RUNS));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return out;
}
