import * as z from 'zod';

// Shared argument schemas: every tool that takes an app, environment, limit or cursor uses these.

export const AppRef = z.string().min(1).max(200).describe('Slug or UUID');

export const EnvRef = z.string().min(1).max(200).describe('test, live... or UUID');

export const Limit = z.number().int().min(1).max(100).default(20).describe('Page size');

export const Cursor = z.string().min(1).max(2000).optional().describe('From next_cursor');

export const WaitSeconds = z
  .number()
  .int()
  .min(0)
  .max(600)
  .optional()
  .describe('Max wait in s (default 50; 0 = none)');

export const Uuid = (what: string) => z.string().regex(/^[0-9a-fA-F-]{32,36}$/, `must be a ${what} UUID`);

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
