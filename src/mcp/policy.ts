import { type Application, type DivioClient, NotFoundError, ResolutionError } from '../client/index.js';
import { POLICY_ENTRY_FORMS, type ServerConfig } from './config.js';
import type { Logger } from './log.js';

/*
 * The environment write policy: `--read-only-environments` and `--protected-environments`. Entries were
 * validated at start (config.ts parsePolicyList): each is `env`, `app/env` or an ID. An environment part
 * matches the environment's slug or ID; an application part matches the application's slug or ID, so
 * `<app ID>/live` protects that application's live environment. Slugs compare without case, as before,
 * so an entry never protects less than its spelling suggests.
 */

export type PolicyList = 'read-only-environments' | 'protected-environments';
const LISTS: readonly PolicyList[] = ['read-only-environments', 'protected-environments'];

export interface PolicyTarget {
  /** The application's slug (or ID when it has none). */
  app: string;
  environment: string;
  environmentUuid: string;
}

export interface UnmatchedEntry {
  list: PolicyList;
  entry: string;
}

// IDs are opaque strings of letters, digits and `-`, 20 to 40 characters (live IDs are 26-character base32).
const ID_LIKE = /^[A-Za-z0-9-]{20,40}$/;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function split(entry: string): { app: string | null; env: string } {
  const slash = entry.indexOf('/');
  return slash < 0 ? { app: null, env: entry } : { app: entry.slice(0, slash), env: entry.slice(slash + 1) };
}

export class EnvironmentPolicy {
  readonly #config: ServerConfig;
  readonly #client: DivioClient;
  readonly #log: Logger;
  #unmatched: UnmatchedEntry[] | null = null;
  #checking: Promise<void> | undefined;

  constructor(config: ServerConfig, client: DivioClient, log: Logger) {
    this.#config = config;
    this.#client = client;
    this.#log = log;
  }

  #entries(list: PolicyList): readonly string[] {
    return list === 'read-only-environments'
      ? this.#config.readOnlyEnvironments
      : this.#config.protectedEnvironments;
  }

  /** An application by slug or ID, or null when none matches (any other failure is thrown). */
  async #app(ref: string, signal?: AbortSignal): Promise<Application | null> {
    for (const spelling of new Set([ref, ref.toLowerCase()])) {
      try {
        return await this.#client.resolveApplication(spelling, signal);
      } catch (error) {
        if (!(error instanceof ResolutionError || error instanceof NotFoundError)) throw error;
      }
    }
    return null;
  }

  /**
   * Whether `list` names the target environment. An `app/env` entry whose application part is not the
   * target's slug (an ID, say) is looked up: a failed lookup is thrown rather than read as "not listed",
   * so a write is never let through because the policy could not be checked.
   */
  async matches(list: PolicyList, t: PolicyTarget, signal?: AbortSignal): Promise<boolean> {
    for (const entry of this.#entries(list)) {
      const { app, env } = split(entry);
      if (!same(env, t.environment) && !same(env, t.environmentUuid)) continue;
      if (app === null || same(app, t.app)) return true;
      const [named, target] = await Promise.all([this.#app(app, signal), this.#app(t.app, signal)]);
      if (named && target && same(named.uuid, target.uuid)) return true;
    }
    return false;
  }

  /** Whether some environment this token can see matches the entry. */
  async #exists(entry: string): Promise<boolean> {
    const { app, env } = split(entry);
    if (app !== null) {
      const application = await this.#app(app);
      if (!application) return false;
      const envs = await this.#client.listEnvironmentsCached(application.uuid);
      return envs.some((e) => same(e.slug, env) || same(e.uuid, env));
    }
    // ListEnvironments documents a `slug` filter next to `application`; that it also narrows across every
    // application when `application` is left out is inferred (the sandbox does so).
    for (const slug of new Set([env, env.toLowerCase()])) {
      const page = await this.#client.environments.list({ slug, page_size: 1 });
      if (page.results.length > 0) return true;
    }
    if (!ID_LIKE.test(env)) return false;
    try {
      await this.#client.environments.get(env);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  async #check(): Promise<void> {
    const unmatched: UnmatchedEntry[] = [];
    for (const list of LISTS) {
      for (const entry of this.#entries(list)) {
        if (!(await this.#exists(entry))) unmatched.push({ list, entry });
      }
    }
    this.#unmatched = unmatched;
    for (const { list, entry } of unmatched) {
      this.#log.warn(
        `--${list} entry '${entry}' matches no environment this token can see, so it protects nothing. Each entry is ${POLICY_ENTRY_FORMS}. Correct or remove it.`,
      );
    }
  }

  /**
   * Looks every entry up once, at the first call that can, and reports the ones that match no environment
   * on the log. A check that fails (no token, API unreachable) is tried again at the next call; it never
   * fails the call itself.
   */
  check(): Promise<void> {
    if (this.#unmatched) return Promise.resolve();
    this.#checking ??= this.#check()
      .catch(() => undefined)
      .finally(() => {
        this.#checking = undefined;
      });
    return this.#checking;
  }

  /** Entries that matched no environment; null until the check could run (for a `doctor` report). */
  unmatchedEntries(): readonly UnmatchedEntry[] | null {
    return this.#unmatched;
  }
}
