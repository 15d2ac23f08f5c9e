import * as z from 'zod';
import type { Environment } from '../client/index.js';
import { formatAge, parseTimeArg } from '../text/format.js';
import { ident, quote } from '../text/index.js';
import { failedLastRestore, lastSuccessfulBackup } from './backups.js';
import type { Api } from './context.js';
import { failingExcerpt } from './deploylog.js';
import { deploymentResult, summariseDeployment } from './deployments.js';
import { EnvironmentStatus, environmentStatus } from './environments.js';
import { deployFindings, Finding, RuntimeErrors, runtimeFindings } from './findings.js';
import { fetchLogs } from './logs.js';
import { PlatformText } from './shapes.js';
import { resolveTarget } from './targets.js';

const SCAN_LIMIT = 1000;
const SEVERITY_RANK = { error: 0, warning: 1, info: 2 } as const;

export const Diagnosis = z.object({
  verdict: z.enum(['healthy', 'degraded', 'failing']),
  findings: z.array(Finding),
  status: EnvironmentStatus,
  failed_deploy_excerpt: z.array(PlatformText('deploy log line')).nullable(),
  errors: RuntimeErrors,
  last_successful_backup: z.object({ uuid: z.string(), created: z.string().nullable() }).nullable(),
});
export type Diagnosis = z.infer<typeof Diagnosis>;

/**
 * "What is wrong with X" in one call: status, the last deploy (with the failing part of its log), recent
 * runtime errors (grouped by signature, with the warnings that name a cause, related to the deployments), the
 * last good backup and a failed restore, as findings, worst first.
 */
export async function diagnoseEnvironment(
  api: Api,
  args: { app: string; environment: string; since: string },
): Promise<Diagnosis> {
  const now = api.client.now();
  const since = parseTimeArg('since', args.since, now);
  const { env } = await resolveTarget(api, args.app, args.environment);
  // Every upstream call runs in parallel; the slowest one sets the latency. A failed deployment's log is read as
  // soon as the environment names it, alongside the environment's pending commits.
  let failedLog: Promise<string> | undefined;
  const readFailedLog = (detail: Environment) => {
    const last = summariseDeployment(detail.last_finished_deployment);
    if (last?.success !== false) return;
    failedLog = api.client.deployments.logs(last.uuid, api).then((l) => String(l.logs ?? ''));
    // Awaited below; until then a failure must not count as unhandled.
    failedLog.catch(() => undefined);
  };
  const [status, logs, backup, restore] = await Promise.all([
    environmentStatus(api, args.app, env.uuid, readFailedLog),
    fetchLogs(api, env.uuid, { since, limit: SCAN_LIMIT }, undefined, Number.POSITIVE_INFINITY),
    lastSuccessfulBackup(api, env.uuid),
    // A failed restore is evidence, not a reason to fail the diagnosis: skip it when it cannot be read.
    failedLastRestore(api, env.uuid).catch(() => null),
  ]);
  const last = status.last_finished_deployment;
  // Set exactly when that deployment failed: status.last_finished_deployment is read from the same environment.
  const excerpt = failedLog ? failingExcerpt(await failedLog, 25).lines : null;
  const runtime = runtimeFindings(logs.entries, since, SCAN_LIMIT, now);

  const findings: Finding[] = [];
  if (status.running_deployment) {
    findings.push({
      severity: 'info',
      message: `A deployment is running now: ${deploymentResult(status.running_deployment)} (${ident(status.running_deployment.uuid)}).`,
    });
  }
  findings.push(...deployFindings(last, status.released_deployment, runtime, now));
  findings.push(...runtime.findings);
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
  } else if (backup.last.created && now - Date.parse(backup.last.created) > 7 * 86_400_000) {
    findings.push({
      severity: 'warning',
      message: `The last successful backup is ${formatAge(backup.last.created, now)} old (${ident(backup.last.uuid)}).`,
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
  findings.sort((x, y) => SEVERITY_RANK[x.severity] - SEVERITY_RANK[y.severity]);
  if (findings.length === 0) findings.push({ severity: 'info', message: 'No problems found.' });
  return {
    verdict,
    findings,
    status,
    failed_deploy_excerpt: excerpt,
    errors: runtime.errors,
    last_successful_backup: backup.last,
  };
}
