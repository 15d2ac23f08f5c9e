import * as z from 'zod';
import {
  deleteVariable,
  deleteVariablePreview,
  setVariable,
  setVariablePreview,
  VariableDeleted,
  VariableSet,
} from '../domain/variable-writes.js';
import { effects } from '../mcp/outcome.js';
import { defineTool } from '../mcp/registry.js';
import { envName } from '../text/index.js';
import { AppRef, EnvRef } from './schemas.js';

const NAME = z
  .string()
  .max(255)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid variable name (letters, digits, underscores)')
  .describe('Variable name, e.g. DEBUG');

export const setEnvironmentVariable = defineTool({
  name: 'set_environment_variable',
  title: 'Set environment variable',
  toolset: 'config',
  description:
    'Creates or updates an environment variable, applied on the next deploy_environment; current values: list_environment_variables. Returns whether created. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    name: NAME,
    value: z.string().max(10_000).describe('New value'),
    sensitive: z.boolean().optional().describe('New variables only: hide the value everywhere'),
  }),
  output: VariableSet,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  confirm: { preview: (args, ctx) => setVariablePreview(ctx, args) },
  handler: (args, ctx) => setVariable(ctx, args, effects(ctx)),
  auditUuid: (out) => out.uuid,
  render: (out) =>
    `${out.created ? 'Created' : 'Updated'} ${out.name}${out.sensitive ? ' (sensitive)' : ''} on ${envName(out.app, out.environment)}. ${out.next_step}`,
});

export const deleteEnvironmentVariable = defineTool({
  name: 'delete_environment_variable',
  title: 'Delete environment variable',
  toolset: 'config',
  description:
    'Deletes an environment variable, applied on the next deploy_environment; to change it: set_environment_variable. Returns its uuid. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({ app: AppRef, environment: EnvRef, name: NAME }),
  output: VariableDeleted,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  confirm: { preview: (args, ctx) => deleteVariablePreview(ctx, args) },
  handler: (args, ctx) => deleteVariable(ctx, args, effects(ctx)),
  auditUuid: (out) => out.uuid,
  render: (out) => `Deleted ${out.name} from ${envName(out.app, out.environment)}. ${out.next_step}`,
});
