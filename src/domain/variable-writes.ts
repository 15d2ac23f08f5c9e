import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { EnvironmentVariable } from '../client/index.js';
import { envName, ident, quote } from '../text/index.js';
import type { Api } from './context.js';
import { type ConfirmPreview, type Effects, LookupIncomplete, type WriteTarget } from './effects.js';
import { ToolError } from './errors.js';
import { resolveTarget } from './targets.js';

async function findVariable(api: Api, envUuid: string, name: string): Promise<EnvironmentVariable | null> {
  // Every page: a server that ignores the `name` filter (or pages small) must not hide the variable.
  const listing = await api.client.environmentVariables.all({ environment: envUuid, name }, api);
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

interface VariableRef {
  app: string;
  environment: string;
  name: string;
}

/** The environment, where a write to it lands, and the variable if it exists. */
async function locate(api: Api, args: VariableRef) {
  const { app, env } = await resolveTarget(api, args.app, args.environment);
  const detail = await api.client.environments.get(env.uuid, api);
  const t: WriteTarget = {
    app: app.slug,
    environment: env.slug,
    environmentUuid: env.uuid,
    productionGrade: detail.is_production_grade === true,
  };
  return { env, t, existing: await findVariable(api, env.uuid, args.name) };
}

/** As `locate`, for a preview: a variable Divio manages (read-only) is refused. */
async function locateWritable(api: Api, args: VariableRef) {
  const found = await locate(api, args);
  if (found.existing?.is_read_only) {
    throw new ToolError(
      `${args.name} is read-only on ${envName(found.t.app, found.t.environment)}; Divio manages it.`,
    );
  }
  return found;
}

const nextDeploy = (t: WriteTarget) =>
  `Deploy ${envName(t.app, t.environment)} (deploy_environment) for the change to take effect.`;

export interface SetVariableArgs extends VariableRef {
  value: string;
  sensitive?: boolean | undefined;
}

export async function setVariablePreview(api: Api, args: SetVariableArgs): Promise<ConfirmPreview> {
  const { t, existing } = await locateWritable(api, args);
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
}

export const VariableSet = z.object({
  app: z.string(),
  environment: z.string(),
  name: z.string(),
  uuid: z.string(),
  created: z.boolean(),
  sensitive: z.boolean(),
  next_step: z.string(),
});

/** Creates or updates an environment variable; it applies on the next deploy. */
export async function setVariable(
  api: Api,
  args: SetVariableArgs,
  fx: Effects,
): Promise<z.infer<typeof VariableSet>> {
  const { env, t, existing } = await locate(api, args);
  const saved = await fx.write({
    what: `the ${existing ? 'change' : 'creation'} of ${args.name} on ${t.app}/${t.environment}`,
    kind: 'variable',
    send: () =>
      existing
        ? api.client.environmentVariables.update(existing.uuid, { value: args.value }, api)
        : api.client.environmentVariables.create(
            {
              name: args.name,
              environment: env.uuid,
              value: args.value,
              is_sensitive: args.sensitive === true,
            },
            api,
          ),
    handle: (v) => v.uuid,
    lookup: async () => {
      const now = await findVariable(api, env.uuid, args.name);
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
    next_step: nextDeploy(t),
  };
}

export async function deleteVariablePreview(api: Api, args: VariableRef): Promise<ConfirmPreview> {
  const { t, existing } = await locateWritable(api, args);
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
}

export const VariableDeleted = z.object({
  app: z.string(),
  environment: z.string(),
  name: z.string(),
  uuid: z.string(),
  next_step: z.string(),
});

/** Deletes an environment variable; it applies on the next deploy. */
export async function deleteVariable(
  api: Api,
  args: VariableRef,
  fx: Effects,
): Promise<z.infer<typeof VariableDeleted>> {
  const { env, t, existing } = await locate(api, args);
  if (!existing)
    throw new ToolError(
      `${args.name} no longer exists on ${envName(t.app, t.environment)}. Nothing was changed.`,
    );
  await fx.write({
    what: `the deletion of ${args.name} from ${envName(t.app, t.environment)}`,
    kind: 'variable',
    send: async () => {
      await api.client.environmentVariables.delete(existing.uuid, api);
      return existing;
    },
    handle: (v) => v.uuid,
    lookup: async () => {
      const now = await findVariable(api, env.uuid, args.name);
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
    next_step: nextDeploy(t),
  };
}
