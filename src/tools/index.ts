import { appsTools } from './apps.js';
import { backupReadTools } from './backups.js';
import { configReadTools } from './config.js';
import { deployReadTools } from './deploy.js';
import { diagnoseTools } from './diagnose.js';
import { logsTools } from './logs.js';
import type { AnyTool } from './registry.js';

/** Every tool, in the order `tools/list` shows them. */
export const allTools: readonly AnyTool[] = [
  ...appsTools,
  ...diagnoseTools,
  ...logsTools,
  ...deployReadTools,
  ...backupReadTools,
  ...configReadTools,
];
