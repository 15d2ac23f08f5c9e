import * as z from 'zod';
import { formatAge, formatDuration } from '../text/format.js';
import { ident, quote } from '../text/index.js';
import {
  CauseWarning,
  causeWarnings,
  ErrorGroup,
  type ErrorGroupOut,
  errorEvents,
  groupEvents,
  type LogLineIn,
  notableGroups,
} from './log-analysis.js';

// What a diagnosis concludes from the runtime logs and the deployments, as findings a person reads first: the
// errors grouped by signature (CRITICAL and worker errors always shown, however rare), the warnings that name
// a cause, and how the errors relate to the deployments (a failed deploy that never went live is not their
// cause; errors that begin right after a release point at it).

export const Finding = z.object({ severity: z.enum(['error', 'warning', 'info']), message: z.string() });
export type Finding = z.infer<typeof Finding>;

export const RuntimeErrors = z.object({
  window_start: z.string(),
  lines_scanned: z.number(),
  error_events: z.number().describe('Failures seen (a traceback with its error line counts once)'),
  first_error_at: z.string().nullable().describe('When the most frequent error was first seen in the window'),
  groups: z.array(ErrorGroup).describe('Most frequent first, plus every CRITICAL and worker group'),
  causes: z.array(CauseWarning).describe('WARNING lines naming a cause (timeouts, refused connections)'),
});
export type RuntimeErrors = z.infer<typeof RuntimeErrors>;

/** A deployment as the findings need it. */
export interface DeployIn {
  uuid: string;
  success: boolean | null;
  ended_at: string | null;
}

/**
 * "It started at" needs a stretch without the error before its first occurrence in the scan: at least this
 * long, and at least QUIET_GAPS times the error's mean interval (and a mean needs three occurrences).
 */
const QUIET_MS = 5 * 60_000;
const QUIET_GAPS = 3;
/** Errors that begin within this after a release went live point at the release. */
const RELEASE_LINK_MS = 60 * 60_000;
/** This many error events or more in the window make the errors an error finding, fewer a warning. */
const ERRORS_FAILING = 20;
const WORKER = /worker|celery|cron/i;

const services = (g: ErrorGroupOut) => g.services.map((s) => ident(s)).join('/');

export interface RuntimeFindings {
  errors: RuntimeErrors;
  findings: Finding[];
  /** The scan saw a quiet stretch before the most frequent error began, so its start is known. */
  quietBefore: boolean;
}

/** Errors and causes in the scanned lines (oldest first), with the findings they support. */
export function runtimeFindings(
  lines: readonly LogLineIn[],
  since: Date,
  scanCap: number,
  now: number,
): RuntimeFindings {
  const events = errorEvents(lines);
  const groups = groupEvents(events);
  const shown = notableGroups(groups);
  const causes = causeWarnings(lines).slice(0, 5);
  const findings: Finding[] = [];
  const top = groups[0];
  // When the most frequent failure began: a stray error earlier in the window says nothing about it.
  const first = top?.first_seen ?? null;
  const oldest = lines[0]?.timestamp;
  const quietMs = first && oldest ? Date.parse(first) - Date.parse(oldest) : Number.NaN;
  // A start is only a start when the stretch before it is quiet for much longer than the error usually is:
  // an error that recurs every ten minutes all day has a twenty-minute gap somewhere by chance.
  const usualGapMs =
    top && top.count >= 3
      ? (Date.parse(top.last_seen) - Date.parse(top.first_seen)) / (top.count - 1)
      : Number.NaN;
  const quietBefore = quietMs >= Math.max(QUIET_MS, QUIET_GAPS * usualGapMs);
  if (top) {
    const capped = lines.length >= scanCap ? ` (newest ${scanCap} lines scanned)` : '';
    const started = quietBefore
      ? ` It started at ${ident(first)} (${formatAge(first, now)}); none in the ${formatDuration(Math.round(quietMs / 1000))} scanned before.`
      : '';
    findings.push({
      severity: events.length >= ERRORS_FAILING ? 'error' : 'warning',
      message: `${events.length} error(s) of ${groups.length} kind(s) in the runtime logs since ${since.toISOString()}${capped}; most frequent (${top.count}x): ${quote(top.signature, 160)}${top.target ? ` (names ${ident(top.target)})` : ''}.${started}`,
    });
  } else if (lines.length === 0) {
    findings.push({
      severity: 'warning',
      message: `No runtime log lines at all since ${since.toISOString()}.`,
    });
  }
  for (const g of shown.filter((x) => x.level === 'critical').slice(0, 3)) {
    findings.push({
      severity: 'error',
      message: `CRITICAL (${g.count}x, last ${ident(g.last_seen)}): ${quote(g.example.message, 160)}`,
    });
  }
  const workers = shown.filter((x) => x !== top && x.services.some((s) => WORKER.test(s)));
  for (const g of workers.slice(0, 2)) {
    findings.push({
      severity: 'warning',
      message: `Background ${services(g)} errors too (${g.count}x): ${quote(g.signature, 160)}`,
    });
  }
  for (const c of causes.filter((x) => x.target).slice(0, 2)) {
    findings.push({
      severity: 'warning',
      message: `${c.count} warning(s) name a cause${events.length > 0 ? ' of the errors' : ''}: ${ident(c.target)} (${quote(c.signature, 160)}).`,
    });
  }
  return {
    errors: {
      window_start: since.toISOString(),
      lines_scanned: lines.length,
      error_events: events.length,
      first_error_at: first,
      groups: shown,
      causes,
    },
    findings,
    quietBefore,
  };
}

/**
 * How the deployments relate to the errors: a failed deployment that never went live did not cause them; errors
 * that began within the hour after a release went live point at it; otherwise no release explains them.
 */
export function deployFindings(
  last: DeployIn | null,
  released: DeployIn | null,
  runtime: Pick<RuntimeFindings, 'quietBefore'> & {
    errors: Pick<RuntimeErrors, 'error_events' | 'first_error_at'>;
  },
  now: number,
): Finding[] {
  const findings: Finding[] = [];
  const hasErrors = runtime.errors.error_events > 0;
  if (!last) {
    findings.push({ severity: 'warning', message: 'The environment has never finished a deployment.' });
  } else if (last.success === false) {
    const neverLive =
      released && released.uuid !== last.uuid
        ? ` It never went live: ${ident(released.uuid)} (went live ${formatAge(released.ended_at, now)}) is still serving${hasErrors ? ', so the failed deploy is not the cause of the runtime errors' : ''}.`
        : '';
    findings.push({
      severity: 'error',
      message: `The last deployment failed ${formatAge(last.ended_at, now)} (${ident(last.uuid)}).${neverLive} See the failing part of its log below.`,
    });
  }
  // Only a start the scan saw (a quiet stretch before it) can be set against when a release went live.
  const firstMs = runtime.quietBefore ? Date.parse(runtime.errors.first_error_at ?? '') : Number.NaN;
  const liveMs = Date.parse(released?.ended_at ?? '');
  const gap = firstMs - liveMs;
  if (!hasErrors || !released || !Number.isFinite(gap)) return findings;
  if (gap >= 0 && gap <= RELEASE_LINK_MS) {
    findings.push({
      severity: 'error',
      message: `The errors started ${formatDuration(Math.round(gap / 1000))} after deployment ${ident(released.uuid)} went live (${ident(released.ended_at)}): a likely cause. Compare it with the deployment before it (list_deployments).`,
    });
  } else if (gap > RELEASE_LINK_MS) {
    findings.push({
      severity: 'info',
      message: `No release went live in the hour before the errors started (the serving deployment ${ident(released.uuid)} went live ${formatAge(released.ended_at, now)}): look at what the errors name (services, upstreams) rather than the code.`,
    });
  }
  return findings;
}
