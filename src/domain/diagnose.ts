import * as z from 'zod';
import { formatAge, parseTimeArg } from '../text/format.js';
import { ident, quote } from '../text/index.js';
import { failedLastRestore, lastSuccessfulBackup } from './backups.js';
import type { Api } from './context.js';
import { failingExcerpt } from './deploylog.js';
import { deploymentResult } from './deployments.js';
import { EnvironmentStatus, environmentStatus } from './environments.js';
import { fetchLogs, LogLine } from './logs.js';
import { PlatformText } from './shapes.js';
import { resolveTarget } from './targets.js';

const ERROR_LINE =
  /\b(ERROR|CRITICAL|FATAL|Traceback|Exception|[A-Z][a-zA-Z]+Error)\b|"\s5\d\d\s|\sHTTP\/\d(?:\.\d)?"?\s5\d\d\b|\bstatus[=: ]5\d\d\b/;
const SCAN_LIMIT = 1000;

/** Groups error lines by their shape (numbers, ids and hex stripped) so repeated errors count once. */
export function groupErrors(
  lines: readonly LogLine[],
): { signature: string; count: number; last: LogLine }[] {
  const groups = new Map<string, { signature: string; count: number; last: LogLine }>();
  for (const line of lines) {
    const signature = line.message
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
      // the live API's own ID spelling: 26 lowercase base32 characters (with a digit, so long words survive)
      .replace(/\b(?=[a-z2-7]*\d)[a-z2-7]{26}\b/g, '<id>')
      .replace(/0x[0-9a-f]+/gi, '<hex>')
      .replace(/\d+(\.\d+)?/g, '<n>')
      .slice(0, 160);
    const g = groups.get(signature);
    if (g) {
      g.count++;
      g.last = line;
    } else groups.set(signature, { signature, count: 1, last: line });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

const Finding = z.object({ severity: z.enum(['error', 'warning', 'info']), message: z.string() });
type Finding = z.infer<typeof Finding>;

export const Diagnosis = z.object({
  verdict: z.enum(['healthy', 'degraded', 'failing']),
  findings: z.array(Finding),
  status: EnvironmentStatus,
  failed_deploy_excerpt: z.array(PlatformText('deploy log line')).nullable(),
  errors: z.object({
    window_start: z.string(),
    lines_scanned: z.number(),
    error_lines: z.number(),
    top: z.array(z.object({ count: z.number(), example: LogLine })),
  }),
  last_successful_backup: z.object({ uuid: z.string(), created: z.string().nullable() }).nullable(),
});
export type Diagnosis = z.infer<typeof Diagnosis>;

/**
 * "What is wrong with X" in one call: status, the last deploy (with the failing part of its log), recent
 * runtime errors, the last good backup and a failed restore, as findings, worst first in the verdict.
 */
export async function diagnoseEnvironment(
  api: Api,
  args: { app: string; environment: string; since: string },
): Promise<Diagnosis> {
  const since = parseTimeArg('since', args.since);
  const { env } = await resolveTarget(api, args.app, args.environment);
  // Every upstream call runs in parallel; the slowest one sets the latency.
  const [status, logs, backup, restore] = await Promise.all([
    environmentStatus(api, args.app, env.uuid),
    fetchLogs(api, env.uuid, { since, limit: SCAN_LIMIT }, undefined, Number.POSITIVE_INFINITY),
    lastSuccessfulBackup(api, env.uuid),
    // A failed restore is evidence, not a reason to fail the diagnosis: skip it when it cannot be read.
    failedLastRestore(api, env.uuid).catch(() => null),
  ]);
  const last = status.last_finished_deployment;
  const excerpt =
    last && last.success === false
      ? failingExcerpt(String((await api.client.deployments.logs(last.uuid, api)).logs ?? ''), 25).lines
      : null;
  const errorLines = logs.entries.filter((e) => ERROR_LINE.test(e.message));
  const groups = groupErrors(errorLines);

  const findings: Finding[] = [];
  if (status.running_deployment) {
    findings.push({
      severity: 'info',
      message: `A deployment is running now: ${deploymentResult(status.running_deployment)} (${ident(status.running_deployment.uuid)}).`,
    });
  }
  if (!last) {
    findings.push({ severity: 'warning', message: 'The environment has never finished a deployment.' });
  } else if (last.success === false) {
    const released = status.released_deployment;
    findings.push({
      severity: 'error',
      message: `The last deployment failed ${formatAge(last.ended_at)} (${ident(last.uuid)}).${released && released.uuid !== last.uuid ? ` The previously released deployment ${ident(released.uuid)} (${formatAge(released.ended_at)}) is still serving.` : ''} See the failing part of its log below.`,
    });
  }
  if (errorLines.length > 0) {
    const top = groups[0];
    findings.push({
      severity: errorLines.length >= 20 ? 'error' : 'warning',
      message: `${errorLines.length} error lines in the runtime logs since ${since.toISOString()}${logs.entries.length >= SCAN_LIMIT ? ` (newest ${SCAN_LIMIT} lines scanned)` : ''}; most frequent (${top?.count}x): ${quote(top?.last.message, 160)}`,
    });
  } else if (logs.entries.length === 0) {
    findings.push({
      severity: 'warning',
      message: `No runtime log lines at all since ${since.toISOString()}.`,
    });
  }
  const notProvisioned = status.service_instances.filter((s) => s.status === 'NEW');
  for (const s of notProvisioned) {
    findings.push({
      severity: 'warning',
      message: `${ident(s.type)} service ${ident(s.prefix)} is not provisioned (status NEW).`,
    });
  }
  if (restore) findings.push({ severity: 'error', message: restore });
  if (backup.newest?.problem) {
    findings.push({
      severity: 'warning',
      message: `The newest completed backup (${backup.newest.uuid}) did not succeed. ${backup.newest.problem}`,
    });
  }
  if (!backup.last) {
    findings.push({
      severity: status.production_grade ? 'error' : 'warning',
      message: `No successful backup found among the last ${backup.scanned} backups. Consider create_backup.`,
    });
  } else if (backup.last.created && Date.now() - Date.parse(backup.last.created) > 7 * 86_400_000) {
    findings.push({
      severity: 'warning',
      message: `The last successful backup is ${formatAge(backup.last.created)} old (${ident(backup.last.uuid)}).`,
    });
  }
  if ((status.pending_commits ?? 0) > 0) {
    findings.push({
      severity: 'info',
      message: `${status.pending_commits} commit(s) on ${status.branch ? `branch ${quote(status.branch)}` : 'the branch'} are not deployed yet.`,
    });
  }
  const verdict: 'healthy' | 'degraded' | 'failing' = findings.some((f) => f.severity === 'error')
    ? 'failing'
    : findings.some((f) => f.severity === 'warning')
      ? 'degraded'
      : 'healthy';
  if (findings.length === 0) findings.push({ severity: 'info', message: 'No problems found.' });
  return {
    verdict,
    findings,
    status,
    failed_deploy_excerpt: excerpt,
    errors: {
      window_start: since.toISOString(),
      lines_scanned: logs.entries.length,
      error_lines: errorLines.length,
      top: groups.slice(0, 5).map((g) => ({ count: g.count, example: g.last })),
    },
    last_successful_backup: backup.last,
  };
}
