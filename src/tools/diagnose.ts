import * as z from 'zod';
import { Diagnosis, diagnoseEnvironment as diagnosis } from '../domain/diagnose.js';
import { formatLogLine } from '../domain/logs.js';
import { deploymentLogLink, envLink, logsLink } from '../mcp/links.js';
import { defineTool, READ_ONLY } from '../mcp/registry.js';
import { envName, fence } from '../text/index.js';
import { AppRef, EnvRef } from './schemas.js';

/** One signature group inside the fence: its counts, then its latest line (and the exception it ended with). */
const groupLines = (g: Diagnosis['errors']['groups'][number]): string =>
  [
    `${g.count}x ${g.level} ${g.services.join('/')} ${g.signature}`,
    `  e.g. ${formatLogLine(g.example)}`,
    ...(g.example.exception ? [`  ${g.example.exception}`] : []),
  ].join('\n');

const diagnoseEnvironment = defineTool({
  name: 'diagnose_environment',
  title: 'Diagnose environment',
  toolset: 'apps',
  description:
    "Diagnoses an environment: first call for 'what is wrong', then get_environment_logs or get_deployment_log. Returns verdict, findings, failed deploy log, errors by signature, last good backup.",
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    since: z
      .string()
      .max(40)
      .default('1h')
      .describe('How far back to scan runtime logs for errors: 15m, 1h, 1d or ISO 8601'),
  }),
  output: Diagnosis,
  annotations: READ_ONLY,
  handler: (args, ctx) => diagnosis(ctx, args),
  render: (out) =>
    [
      `${envName(out.status.app, out.status.environment)}: ${out.verdict.toUpperCase()}`,
      'Findings:',
      ...out.findings.map((f) => `- [${f.severity}] ${f.message}`),
      out.failed_deploy_excerpt
        ? `Failing part of the last deploy log:\n${fence('deploy log output', out.failed_deploy_excerpt.join('\n'))}`
        : '',
      out.errors.groups.length
        ? `Runtime errors by signature (count, level, services, signature, latest example):\n${fence(
            'runtime log output',
            out.errors.groups.map(groupLines).join('\n'),
          )}`
        : '',
      out.errors.causes.length
        ? `Warnings naming a cause (count, signature, latest example):\n${fence(
            'runtime log output',
            out.errors.causes
              .map((c) => `${c.count}x ${c.signature}\n  e.g. ${formatLogLine(c.example)}`)
              .join('\n'),
          )}`
        : '',
      out.verdict === 'healthy'
        ? ''
        : 'Next: get_environment_logs (search, since) or get_deployment_log for more evidence.',
    ]
      .filter(Boolean)
      .join('\n'),
  links: (out) => [
    envLink(out.status.app, out.status.environment),
    logsLink(out.status.app, out.status.environment),
    ...(out.status.last_finished_deployment
      ? [deploymentLogLink(out.status.last_finished_deployment.uuid, 'last deployment log')]
      : []),
  ],
});

export const diagnoseTools = [diagnoseEnvironment];
