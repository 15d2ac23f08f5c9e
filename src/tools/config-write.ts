import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { EnvironmentVariable } from '../client/index.js';
import { ToolError } from '../mcp/errors.js';
import { LookupIncomplete, performWrite } from '../mcp/outcome.js';
import { defineTool, type ToolContext } from '../mcp/registry.js';
import { envName, ident, quote } from '../text/index.js';
import { resolveTarget } from './common.js';
import { AppRef, EnvRef } from './schemas.js';

const NAME = z
  .string()
  .max(255)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid variable name (letters, digits, underscores)')
  .describe('Variable name, e.g. DEBUG');

async function findVariable(
  ctx: ToolContext,
  envUuid: string,
  name: string,
): Promise<EnvironmentVariable | null> {
  // Every page: a server that ignores the `name` filter (or pages small) must not hide the variable.
  const listing = await ctx.client.environmentVariables.all(
    { environment: envUuid, name },
    { signal: ctx.signal },
  );
  const found = listing.items.find((v) => v.name === name) ?? null;
  if (!found && !listing.complete) {
    throw new ToolError(
      `Could not tell whether ${name} exists: the environment's variable list stopped at ${listing.items.length} variables before it was found. Nothing was changed; check the variable in the Divio Control Panel.`,
    );
  }
  return found;
}

const VALUE_SHOWN = 500;

/** A value as it may be shown: sensitive values never leave the server, not even in a preview. */
function shown(value: unknown, sensitive: boolean): string {
  if (sensitive) return '[sensitive: hidden]';
  if (typeof value !== 'string') return '(empty)';
  const length = Array.from(value).length;
  return length > VALUE_SHOWN
    ? `${quote(value, VALUE_SHOWN)} (${length} characters; the first ${VALUE_SHOWN - 1} are shown)`
    : quote(value, VALUE_SHOWN);
}

/** The state a token binds to: which variable, its current value (hashed) and when it last changed. */
function variableState(v: EnvironmentVariable | null): string {
  if (!v) return 'absent';
  const digest = createHash('sha256')
    .update(String(v.value ?? ''))
    .digest('hex')
    .slice(0, 16);
  return `${v.uuid}:${digest}:${String(v.date_modified ?? '')}`;
}

async function target(ctx: ToolContext, appRef: string, envRef: string) {
  const { app, env } = await resolveTarget(ctx, appRef, envRef);
  const detail = await ctx.client.environments.get(env.uuid, { signal: ctx.signal });
  return {
    env,
    t: {
      app: String(app.slug ?? app.uuid),
      environment: env.slug,
      environmentUuid: env.uuid,
      productionGrade: detail.is_production_grade === true,
    },
  };
}

/** The environment, and the variable if it exists; a variable Divio manages (read-only) is refused. */
async function locateVariable(ctx: ToolContext, args: { app: string; environment: string; name: string }) {
  const { env, t } = await target(ctx, args.app, args.environment);
  const existing = await findVariable(ctx, env.uuid, args.name);
  if (existing?.is_read_only) {
    throw new ToolError(`${args.name} is read-only on ${envName(t.app, t.environment)}; Divio manages it.`);
  }
  return { env, t, existing };
}

export const setEnvironmentVariable = defineTool({
  name: 'set_environment_variable',
  title: 'Set environment variable',
  toolset: 'config',
  description:
    'Creates or updates an environment variable, applied on the next deploy_environment; current values: list_environment_variables. Returns whether it was created. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({
    app: AppRef,
    environment: EnvRef,
    name: NAME,
    value: z.string().max(10_000).describe('New value'),
    sensitive: z.boolean().optional().describe('New variables only: hide the value everywhere'),
  }),
  output: z.object({
    app: z.string(),
    environment: z.string(),
    name: z.string(),
    uuid: z.string(),
    created: z.boolean(),
    sensitive: z.boolean(),
    next_step: z.string(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  confirm: {
    preview: async (args, ctx) => {
      const { t, existing } = await locateVariable(ctx, args);
      if (existing && args.sensitive !== undefined && args.sensitive !== (existing.is_sensitive === true)) {
        throw new ToolError(
          `${args.name} already exists and is${existing.is_sensitive ? '' : ' not'} sensitive; Divio cannot change that on an existing variable. Delete it with delete_environment_variable and create it again.`,
        );
      }
      const sensitive = existing ? existing.is_sensitive === true : args.sensitive === true;
      return {
        summary: `${existing ? 'Change' : 'Create'} ${args.name} on ${envName(t.app, t.environment)}${t.productionGrade ? ' (PRODUCTION)' : ''}. It takes effect on the next deploy.`,
        details: {
          Environment: `${envName(t.app, t.environment)}`,
          Variable: args.name,
          'Old value': existing ? shown(existing.value, sensitive) : '(does not exist)',
          'New value': shown(args.value, sensitive),
          Sensitive: sensitive ? 'yes' : 'no',
        },
        state: variableState(existing),
        target: t,
      };
    },
  },
  handler: async (args, ctx) => {
    const { env, t } = await target(ctx, args.app, args.environment);
    const existing = await findVariable(ctx, env.uuid, args.name);
    const saved = await performWrite(ctx, {
      what: `the ${existing ? 'change' : 'creation'} of ${args.name} on ${t.app}/${t.environment}`,
      kind: 'variable',
      send: () =>
        existing
          ? ctx.client.environmentVariables.update(
              existing.uuid,
              { value: args.value },
              { signal: ctx.signal },
            )
          : ctx.client.environmentVariables.create(
              {
                name: args.name,
                environment: env.uuid,
                value: args.value,
                is_sensitive: args.sensitive === true,
              },
              { signal: ctx.signal },
            ),
      handle: (v) => v.uuid,
      lookup: async () => {
        const now = await findVariable(ctx, env.uuid, args.name);
        if (!now) return null;
        if (typeof now.value === 'string') return now.value === args.value ? now : null;
        // The value is not shown (inferred: Divio may withhold sensitive values): a new variable, or a
        // changed modification time, is the write.
        if (!existing || now.uuid !== existing.uuid) return now;
        if (typeof now.date_modified !== 'string' || typeof existing.date_modified !== 'string')
          throw new LookupIncomplete("the variable's value and modification time are not shown");
        return now.date_modified !== existing.date_modified ? now : null;
      },
      checkWith: `list_environment_variables (app ${t.app}, environment ${t.environment})`,
      ifNotDone: `${args.name} keeps its ${existing ? 'old value' : 'absence'}. Call set_environment_variable again to set it (that asks for confirmation again).`,
    });
    return {
      app: t.app,
      environment: t.environment,
      name: args.name,
      uuid: saved.uuid,
      created: existing === null,
      sensitive: saved.is_sensitive === true,
      next_step: `Deploy ${envName(t.app, t.environment)} (deploy_environment) for the change to take effect.`,
    };
  },
  auditUuid: (out) => out.uuid,
  render: (out) =>
    `${out.created ? 'Created' : 'Updated'} ${out.name}${out.sensitive ? ' (sensitive)' : ''} on ${envName(out.app, out.environment)}. ${out.next_step}`,
});

export const deleteEnvironmentVariable = defineTool({
  name: 'delete_environment_variable',
  title: 'Delete environment variable',
  toolset: 'config',
  description:
    'Deletes an environment variable, applied on the next deploy_environment; to change one instead: set_environment_variable. Returns its uuid. Asks the person first (protected environments: dialog only).',
  input: z.strictObject({ app: AppRef, environment: EnvRef, name: NAME }),
  output: z.object({
    app: z.string(),
    environment: z.string(),
    name: z.string(),
    uuid: z.string(),
    next_step: z.string(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  confirm: {
    preview: async (args, ctx) => {
      const { t, existing } = await locateVariable(ctx, args);
      if (!existing) {
        throw new ToolError(
          `${args.name} does not exist on ${envName(t.app, t.environment)}. list_environment_variables shows the names.`,
        );
      }
      return {
        summary: `Delete ${args.name} from ${envName(t.app, t.environment)}${t.productionGrade ? ' (PRODUCTION)' : ''}. It takes effect on the next deploy.`,
        details: {
          Environment: `${envName(t.app, t.environment)}`,
          Variable: args.name,
          'Current value': shown(existing.value, existing.is_sensitive === true),
        },
        state: variableState(existing),
        target: t,
      };
    },
  },
  handler: async (args, ctx) => {
    const { env, t } = await target(ctx, args.app, args.environment);
    const existing = await findVariable(ctx, env.uuid, args.name);
    if (!existing)
      throw new ToolError(
        `${args.name} no longer exists on ${envName(t.app, t.environment)}. Nothing was changed.`,
      );
    await performWrite(ctx, {
      what: `the deletion of ${args.name} from ${envName(t.app, t.environment)}`,
      kind: 'variable',
      send: async () => {
        await ctx.client.environmentVariables.delete(existing.uuid, { signal: ctx.signal });
        return existing;
      },
      handle: (v) => v.uuid,
      lookup: async () => {
        const now = await findVariable(ctx, env.uuid, args.name);
        return now?.uuid === existing.uuid ? null : existing;
      },
      checkWith: `list_environment_variables (app ${ident(t.app)}, environment ${ident(t.environment)})`,
      ifNotDone: `${args.name} still exists. Call delete_environment_variable again to delete it (that asks for confirmation again).`,
    });
    return {
      app: t.app,
      environment: t.environment,
      name: args.name,
      uuid: existing.uuid,
      next_step: `Deploy ${envName(t.app, t.environment)} (deploy_environment) for the change to take effect.`,
    };
  },
  auditUuid: (out) => out.uuid,
  render: (out) => `Deleted ${out.name} from ${envName(out.app, out.environment)}. ${out.next_step}`,
});
