import { type DivioClient, sortNewestFirst, TIMESTAMPS } from '../client/index.js';
import { inline } from '../text/index.js';

// Completion callbacks shared by resource template variables and prompt arguments. A completion request
// arrives on every keystroke, so apps and environments come from the resolver's cache and recent deployments
// and backups from a short-lived cache here. Completion never fails: anything unexpected yields no suggestions.

/** At most this many suggestions per answer (the protocol allows 100). */
export const MAX_COMPLETIONS = 25;
const RECENT = 10;
const RECENT_TTL_MS = 15_000;
const RECENT_MAX_KEYS = 100;
const COMPLETION_TIMEOUT_MS = 3_000;

export type CompletionContext = { arguments?: Record<string, string> } | undefined;
export type Completer = (value: string, context?: CompletionContext) => Promise<string[]>;

interface Recent {
  expires: number;
  value: Promise<string[]>;
}

// Keyed by client: servers are built per request, the client (and so this cache) lives for the process.
const recentCache = new WeakMap<DivioClient, Map<string, Recent>>();

function cachedRecent(client: DivioClient, key: string, load: () => Promise<string[]>): Promise<string[]> {
  let byKey = recentCache.get(client);
  if (!byKey) {
    byKey = new Map();
    recentCache.set(client, byKey);
  }
  const hit = byKey.get(key);
  if (hit && hit.expires > Date.now()) return hit.value;
  if (byKey.size >= RECENT_MAX_KEYS) byKey.clear();
  const value = load();
  const entry = { expires: Date.now() + RECENT_TTL_MS, value };
  byKey.set(key, entry);
  value.catch(() => {
    if (byKey.get(key) === entry) byKey.delete(key);
  });
  return value;
}

export function matchPrefix(candidates: readonly string[], value: string): string[] {
  const prefix = value.trim().toLowerCase();
  const seen = new Set<string>();
  for (const c of candidates) {
    // A picker shows suggestions as they are: a value that would not survive sanitizing is not offered.
    if (inline(c) !== c) continue;
    if (c.toLowerCase().startsWith(prefix)) seen.add(c);
    if (seen.size >= MAX_COMPLETIONS) break;
  }
  return [...seen];
}

async function safely(load: (signal: AbortSignal) => Promise<string[]>): Promise<string[]> {
  try {
    return await load(AbortSignal.timeout(COMPLETION_TIMEOUT_MS));
  } catch {
    return [];
  }
}

function arg(context: CompletionContext, name: string): string | undefined {
  const value = context?.arguments?.[name]?.trim();
  return value ? value : undefined;
}

export function completers(client: DivioClient): {
  app: Completer;
  environment: Completer;
  deployment: Completer;
  backup: Completer;
} {
  const envsOf = async (appRef: string, signal: AbortSignal) => {
    const app = await client.resolveApplication(appRef, signal);
    return { app, envs: await client.listEnvironmentsCached(app.uuid, signal) };
  };
  return {
    app: (value) =>
      safely(async (signal) => {
        const apps = await client.listApplicationsCached(signal);
        return matchPrefix(
          apps.map((a) => a.slug),
          value,
        );
      }),

    environment: (value, context) =>
      safely(async (signal) => {
        const appRef = arg(context, 'app');
        if (!appRef) return [];
        const { envs } = await envsOf(appRef, signal);
        return matchPrefix(
          envs.map((e) => e.slug),
          value,
        );
      }),

    deployment: (value, context) =>
      safely(async (signal) => {
        const appRef = arg(context, 'app');
        if (!appRef) return [];
        const { app, envs } = await envsOf(appRef, signal);
        const envRef = arg(context, 'environment');
        const env = envRef ? envs.find((e) => e.slug === envRef || e.uuid === envRef) : undefined;
        const uuids = await cachedRecent(client, `deployments:${app.uuid}:${env?.uuid ?? '*'}`, async () => {
          const page = await client.deployments.list(
            { application: app.uuid, ...(env ? { environment: env.uuid } : {}), page_size: RECENT },
            { signal },
          );
          return page.results.map((d) => d.uuid);
        });
        return matchPrefix(uuids, value);
      }),

    backup: (value, context) =>
      safely(async (signal) => {
        const appRef = arg(context, 'app');
        if (!appRef) return [];
        const { app, envs } = await envsOf(appRef, signal);
        const envRef = arg(context, 'environment');
        const picked = envRef ? envs.filter((e) => e.slug === envRef || e.uuid === envRef) : envs;
        const uuids = await cachedRecent(
          client,
          `backups:${app.uuid}:${envRef ? (picked[0]?.uuid ?? '-') : '*'}`,
          async () => {
            const pages = await Promise.all(
              picked
                .slice(0, 5)
                .map((e) => client.backups.newestFirst({ environment: e.uuid }, { limit: RECENT, signal })),
            );
            // By time, not by text: timestamps may differ in fractional digits or zone spelling.
            return sortNewestFirst(
              pages.flatMap((p) => p.items),
              TIMESTAMPS.backup,
            ).map((b) => b.uuid);
          },
        );
        return matchPrefix(uuids, value);
      }),
  };
}
