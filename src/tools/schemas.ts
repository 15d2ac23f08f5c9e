import * as z from 'zod';
import { CURSOR_MAX_LENGTH } from '../mcp/cursor.js';

// Shared argument schemas: every tool that takes an app, environment, limit or cursor uses these. How to name an
// app or environment and how cursors work is said once, in the server instructions (src/server.ts).

/**
 * A string a model copies from a result (a slug, an ID, a cursor, a token), with a length bound that is checked
 * but not advertised: it tells a model nothing and would cost bytes on every tool, every session. zod leaves
 * refinements out of the JSON Schema it generates, so the bound stays server-side.
 */
export const copied = (max: number, what: string) =>
  z.string().refine((s) => s.length >= 1 && s.length <= max, `must be ${what} (1 to ${max} characters)`);

/**
 * A string a model writes (a time, a service or user name) whose length is checked but not advertised: the
 * bound only guards the server, and the description says what to write.
 */
export const capped = (max: number) =>
  z.string().refine((s) => s.length <= max, `must be at most ${max} characters`);

export const AppRef = copied(200, 'an application slug or ID').describe('App slug or ID');

export const EnvRef = copied(200, 'an environment slug or ID').describe('Env slug or ID');

export const Limit = z.number().int().min(1).max(100).default(20).describe('Items per page');

export { CURSOR_MAX_LENGTH };

export const Cursor = copied(CURSOR_MAX_LENGTH, 'a next_cursor value')
  .optional()
  .describe('From next_cursor');

export const WaitSeconds = z
  .number()
  .int()
  .min(0)
  .max(600)
  .optional()
  .describe('Max seconds to wait (default 50, 0 = none)');

/**
 * An object ID, passed through exactly as given: opaque letters, digits and `-` (the live API spells IDs as
 * 26 lowercase base32 characters, its reference as dashed UUIDs; either passes). `from` names the tools that
 * return such IDs, for the description and the error.
 */
export const ObjectId = (what: string, from: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9-]{20,40}$/, `must be a ${what} ID as returned by ${from}`)
    .describe(`ID from ${from}`);

// Output shapes live with the operations that return them; re-exported for the tools.
export { DeploymentSummary as DeploymentSummarySchema, PageInfo, PlatformText } from '../domain/shapes.js';
