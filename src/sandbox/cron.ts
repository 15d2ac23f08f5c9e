import { prng } from './util.js';

/*
 * Cronjob runs, computed from each cronjob's schedule and the clock, so that GetCronjobLogs and the runtime
 * log's `cronjob` lines tell the same story. Schedules are read in UTC (inferred: the API reference gives the
 * `time` field without a zone, e.g. "02:30" for DAILY and ":42" for HOURLY).
 */

export interface CronSchedule {
  command: string;
  frequency: 'DAILY' | 'HOURLY' | 'EVERY10MIN';
  time: string;
}

export interface CronRun {
  startedMs: number;
  finishedMs: number;
  exitCode: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Offset of the first run within its period: minutes into the day (DAILY) or the hour (HOURLY). */
function offsetMs(job: CronSchedule): number {
  if (job.frequency === 'DAILY') {
    const m = /^(\d{1,2}):(\d{2})$/.exec(job.time.trim());
    return m ? (Number(m[1]) % 24) * HOUR + (Number(m[2]) % 60) * MINUTE : 0;
  }
  if (job.frequency === 'HOURLY') {
    const m = /^:?(\d{1,2})$/.exec(job.time.trim());
    return m ? (Number(m[1]) % 60) * MINUTE : 0;
  }
  return 0;
}

function periodMs(job: CronSchedule): number {
  return job.frequency === 'DAILY' ? DAY : job.frequency === 'HOURLY' ? HOUR : 10 * MINUTE;
}

/** Scheduled start times in [fromMs, toMs), oldest first. */
export function scheduledStarts(job: CronSchedule, fromMs: number, toMs: number): number[] {
  const period = periodMs(job);
  const offset = offsetMs(job);
  const out: number[] = [];
  for (let t = Math.ceil((fromMs - offset) / period) * period + offset; t < toMs; t += period) out.push(t);
  return out;
}

/**
 * One run: its duration and exit code are a function of the environment, the command and the start time. On
 * shop/live every run since the database storm began (`failingFromMs`) fails.
 */
export function cronRun(key: string, job: CronSchedule, startedMs: number, failingFromMs?: number): CronRun {
  const rand = prng(`cron:${key}:${job.command}:${startedMs}`);
  const seconds = job.frequency === 'DAILY' ? 20 + rand() * 200 : 2 + rand() * 40;
  const failing = failingFromMs !== undefined && startedMs >= failingFromMs;
  return {
    startedMs,
    finishedMs: startedMs + Math.round(seconds * 1000),
    exitCode: failing || rand() < 0.02 ? 1 : 0,
  };
}

/** The newest run started at or before `nowMs` (looking back two periods), or null. */
export function latestRun(
  key: string,
  job: CronSchedule,
  nowMs: number,
  failingFromMs?: number,
): CronRun | null {
  const starts = scheduledStarts(job, nowMs - 2 * periodMs(job), nowMs + 1);
  const at = starts.at(-1);
  return at === undefined ? null : cronRun(key, job, at, failingFromMs);
}
