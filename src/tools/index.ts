import type { AnyTool } from '../mcp/registry.js';
import { activityTools } from './activities.js';
import { appsTools } from './apps.js';
import { createBackupDownload, createBackupTool, restoreBackupTool } from './backup-write.js';
import { backupReadTools } from './backups.js';
import { configReadTools } from './config.js';
import { deleteEnvironmentVariable, setEnvironmentVariable } from './config-write.js';
import { deployReadTools } from './deploy.js';
import { deployEnvironment, stopEnvironment } from './deploy-write.js';
import { diagnoseTools } from './diagnose.js';
import { fleetTools } from './fleet.js';
import { logsTools } from './logs.js';
import { metricsTools } from './metrics.js';

/** Every tool, in the order `tools/list` shows them. */
export const allTools: readonly AnyTool[] = [
  ...appsTools,
  ...activityTools,
  ...diagnoseTools,
  ...fleetTools,
  ...logsTools,
  ...metricsTools,
  ...deployReadTools,
  deployEnvironment,
  stopEnvironment,
  ...backupReadTools,
  createBackupTool,
  restoreBackupTool,
  createBackupDownload,
  ...configReadTools,
  setEnvironmentVariable,
  deleteEnvironmentVariable,
];
