import type { Application, Environment } from '../client/index.js';
import type { Api } from './context.js';

export interface Target {
  app: Application;
  env: Environment;
}

/** Resolves an app reference and an environment reference with the client's cached resolver. */
export async function resolveTarget(api: Api, appRef: string, envRef: string): Promise<Target> {
  const app = await api.client.resolveApplication(appRef, api.signal);
  const env = await api.client.resolveEnvironment(app, envRef, api.signal);
  return { app, env };
}

/** An app and, when a reference is given, one of its environments. */
export async function resolveAppAndEnv(
  api: Api,
  appRef: string,
  envRef: string | undefined,
): Promise<{ app: Application; env: Environment | undefined }> {
  const app = await api.client.resolveApplication(appRef, api.signal);
  const env = envRef ? await api.client.resolveEnvironment(app, envRef, api.signal) : undefined;
  return { app, env };
}

/** Maps environment UUIDs of an app to slugs, for compact rows. */
export async function envSlugMap(api: Api, app: Application): Promise<Map<string, string>> {
  const envs = await api.client.listEnvironmentsCached(app.uuid, api.signal);
  return new Map(envs.map((e) => [e.uuid, e.slug]));
}

/** An environment's slug for display; null when it cannot be looked up (the ID is still shown). */
export async function envSlugOf(api: Api, envId: string | null): Promise<string | null> {
  if (!envId) return null;
  try {
    return (await api.client.environments.get(envId, api)).slug;
  } catch {
    return null;
  }
}

/** The ID of a reference the API gives either as an ID or as a nested object. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'uuid' in value && typeof value.uuid === 'string')
    return value.uuid;
  return null;
}

/** The IDs of a list of references (IDs or nested objects); anything else is skipped. */
export function idsOf(value: unknown): string[] {
  return (Array.isArray(value) ? value : []).map(idOf).filter((x): x is string => x !== null);
}
