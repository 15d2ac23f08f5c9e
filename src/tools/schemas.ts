import * as z from 'zod';

// Shared argument schemas: every tool that takes an app, environment, limit or cursor uses these.

export const AppRef = z
  .string()
  .min(1)
  .max(200)
  .describe('Application slug (e.g. "shop") or UUID. list_applications shows valid values.');

export const EnvRef = z
  .string()
  .min(1)
  .max(200)
  .describe('Environment slug ("test", "live", ...) or UUID. get_application lists an app\'s environments.');

export const Limit = z
  .number()
  .int()
  .min(1)
  .max(100)
  .default(20)
  .describe('Items per page, 1-100 (default 20).');

export const Cursor = z
  .string()
  .min(1)
  .max(2000)
  .optional()
  .describe('next_cursor from a previous result, to get the next page. Omit for the first page.');

export const WaitSeconds = z
  .number()
  .int()
  .min(0)
  .max(600)
  .optional()
  .describe('How long to wait for completion, in seconds (default 50; 0 returns at once with a handle).');

export const Uuid = (what: string) =>
  z
    .string()
    .regex(/^[0-9a-fA-F-]{32,36}$/, `must be a ${what} UUID`)
    .describe(`${what} UUID`);

/** Output fields every paginated list carries. */
export const PageInfo = {
  has_more: z.boolean(),
  next_cursor: z.string().nullable(),
};

export const DeploymentSummarySchema = z.object({
  uuid: z.string(),
  status: z.string().nullable(),
  success: z.boolean().nullable(),
  percent: z.number().nullable(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  git_commit: z.string().nullable(),
});
