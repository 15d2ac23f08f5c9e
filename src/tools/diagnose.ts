import * as z from 'zod';
import { failingExcerpt } from '../domain/deploylog.js';
import { deploymentLogLink, envLink, logsLink } from '../mcp/links.js';
import { defineTool, READ_ONLY, type ToolContext } from '../mcp/registry.js';
import { formatAge, parseTimeArg } from '../text/format.js';
import { envName, fence, ident, quote } from '../text/index.js';
import { EnvironmentStatus, loadEnvironmentStatus } from './apps.js';
import { backupRow, errorText, loadServiceBackups, serviceLabel } from './backups.js';
import { deploymentResult, idOf, resolveTarget } from './common.js';
import { fetchLogs, formatLogLine, LogLine, type LogLineOut } from './logs.js';
import { AppRef, EnvRef, PlatformText } from './schemas.js';

const ERROR_LINE =
  /\b(ERROR|CRITICAL|FATAL|Traceback|Exception|[A-Z][a-zA-Z]+Error)\b|"\s5\d\d\s|\sHTTP\/\d(?:\.\d)?"?\s5\d\d\b|\bstatus[=: ]5\d\d\b/;
const SCAN_LIMIT = 1000;

/** Groups error lines by their shape (numbers, ids and hex stripped) so repeated errors count once. */
export function groupErrors(
  lines: readonly LogLineOut[],
): { signature: string; count: number; last: LogLineOut }[] {
  const groups = new Map<string, { signature: string; count: number; last: LogLineOut }>();
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
type FindingOut = z.infer<typeof Finding>;

const BACKUPS_SCANNED = 50;

/**
 * The newest successful backup among the newest 50 (by `created`, whichever order the API pages in), and
 * what went wrong with the newest completed backup when it did not succeed.
 */
async function lastSuccessfulBackup(ctx: ToolContext, envUuid: string) {
  const page = await ctx.client.backups.newestFirst(
    { environment: envUuid },
    { limit: BACKUPS_SCANNED, signal: ctx.signal },
  );
  const ok = page.items.find((b) => b.state === 'COMPLETED' && b.success === 'SUCCESS');
  const newest = page.items.find((b) => b.state === 'COMPLETED');
  let problem: string | null = null;
  if (newest && newest !== ok) {
    const sibs = await loadServiceBackups(ctx.client, [newest], ctx.signal).catch(() => new Map());
    problem = backupRow(newest, sibs, null).problem;
  }
  return {
    last: ok ? { uuid: ok.uuid, created: typeof ok.created === 'string' ? ok.created : null } : null,
    scanned: page.items.length,
    newest: newest && newest !== ok ? { uuid: newest.uuid, problem } : null,
  };
}

/** The newest restore of the environment when it ended without full success, with each failed service's errors. */
async function failedLastRestore(ctx: ToolContext, envUuid: string): Promise<string | null> {
  const page = await ctx.client.backupRestores.newestFirst(
    { environment: envUuid },
    { limit: 1, signal: ctx.signal },
  );
  const last = page.items[0];
  if (last?.finished !== true || last.success === 'SUCCESS') return null;
  const ids = (
    Array.isArray(last.service_instance_backup_restores) ? last.service_instance_backup_restores : []
  )
    .map((x) => idOf(x))
    .filter((x): x is string => x !== null);
  const parts = ids.length
    ? (await ctx.client.serviceInstanceBackupRestores.all({ uuid: ids }, { signal: ctx.signal })).items
    : [];
  const sibIds = parts.map((p) => idOf(p.service_instance_backup)).filter((x): x is string => x !== null);
  const sibs = sibIds.length
    ? await ctx.client.serviceInstanceBackups.all({ uuid: sibIds }, { signal: ctx.signal })
    : null;
  const failed = parts
    .filter((p) => ids.includes(p.uuid) && Array.isArray(p.errors) && p.errors.length > 0)
    .map((p) => {
      const sib = sibs?.items.find((s) => s.uuid === idOf(p.service_instance_backup));
      const name = sib
        ? serviceLabel(String(sib.service_type ?? '?'), String(sib.service_prefix ?? ''))
        : 'a service';
      return `${name} failed: ${(p.errors ?? []).map(errorText).join('; ')}`;
    });
  const result = typeof last.success === 'string' ? quote(last.success, 40) : 'no result';
  return `The last restore (${last.uuid}, ${formatAge(typeof last.started_at === 'string' ? last.started_at : null)}) ended with ${result}${failed.length ? `: ${failed.join('; ')}` : ''}. The restored services may hold incomplete data; restore again with restore_backup or contact Divio support.`;
}

const diagnoseEnvironment = defineTool({
  name: 'diagnose_environment',
  title: 'Diagnose environment',
  toolset: 'apps',
  description:
    "Diagnoses an environment: the first call for 'what is wrong'; detail via get_environment_logs or get_deployment_log. Returns verdict, findings, failed deploy log, top errors, last good backup.",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    since: z
      .string()
      .max(40)
      .default('1h')
      .describe('How far back to scan runtime logs for errors: 15m, 1h, 1d or ISO 8601'),
  }),
  output: z.object({
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
  }),
  annotations: READ_ONLY,
  handler: async (args, ctx) => {
    const since = parseTimeArg('since', args.since);
    const { env } = await resolveTarget(ctx, args.app, args.environment);
    // Every upstream call runs in parallel; the slowest one sets the latency.
    const [status, logs, backup, restore] = await Promise.all([
      loadEnvironmentStatus(ctx, args.app, env.uuid),
      fetchLogs(ctx, env.uuid, { since, limit: SCAN_LIMIT }, undefined, Number.POSITIVE_INFINITY),
      lastSuccessfulBackup(ctx, env.uuid),
      // A failed restore is evidence, not a reason to fail the diagnosis: skip it when it cannot be read.
      failedLastRestore(ctx, env.uuid).catch(() => null),
    ]);
    const last = status.last_finished_deployment;
    const excerpt =
      last && last.success === false
        ? failingExcerpt(
            String((await ctx.client.deployments.logs(last.uuid, { signal: ctx.signal })).logs ?? ''),
            25,
          ).lines
        : null;
    const errorLines = logs.entries.filter((e) => ERROR_LINE.test(e.message));
    const groups = groupErrors(errorLines);

    const findings: FindingOut[] = [];
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
  },
  render: (out) =>
    [
      `${envName(out.status.app, out.status.environment)}: ${out.verdict.toUpperCase()}`,
      'Findings:',
      ...out.findings.map((f) => `- [${f.severity}] ${f.message}`),
      out.failed_deploy_excerpt
        ? `Failing part of the last deploy log:\n${fence('deploy log output', out.failed_deploy_excerpt.join('\n'))}`
        : '',
      out.errors.top.length
        ? `Most frequent runtime errors (count, latest example):\n${fence(
            'runtime log output',
            out.errors.top.map((g) => `${g.count}x ${formatLogLine(g.example)}`).join('\n'),
          )}`
        : '',
      'Next: get_environment_logs (search, since) or get_deployment_log for more evidence.',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [
    envLink(out.status.app, out.status.environment),
    logsLink(out.status.app, out.status.environment),
    ...(out.status.last_finished_deployment
      ? [{ ...deploymentLogLink(out.status.last_finished_deployment.uuid), name: 'last deployment log' }]
      : []),
  ],
});

export const diagnoseTools = [diagnoseEnvironment];
