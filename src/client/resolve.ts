import * as z from 'zod';
import { ident, quoteRef } from '../text/index.js';
import type { DivioClient } from './client.js';
import { NotFoundError, ResolutionError } from './errors.js';
import { type Application, ApplicationSchema, type Environment, EnvironmentSchema } from './schemas.js';

// Turns what a person types ("shop", "live") into API objects. Results are cached briefly so a burst of tool
// calls about the same app costs one lookup, and errors list the valid choices so the caller can pick one.

// Object IDs are opaque: the live API spells them as 26 lowercase base32 characters (see the captured responses
// in the public test repository mebdivio/cdtest1), its reference as dashed UUIDs. Only the shape "could be an
// ID" is used here, to decide whether a get-by-ID is worth sending; an ID is never reformatted or lower-cased.
const ID_SHAPE = /^[A-Za-z0-9-]{20,40}$/;
const MAX_CACHED_APPS = 200;
const MAX_LISTED_CHOICES = 25;
// Hard stop for the application listing: a server that keeps handing out fresh `next` links cannot hold us.
const MAX_LISTING_PAGES = 20;

/**
 * A cache shared by replicas (the Redis store in src/state/, when configured). Its answers are checked like an
 * API response before use, and a failing cache is a miss: it never fails a read.
 */
export interface SharedCache {
  cacheGet(key: string): Promise<string | undefined>;
  cacheSet(key: string, value: string, ttlMs: number): Promise<void>;
}

const CachedEnvironments = z.object({ items: z.array(EnvironmentSchema), complete: z.boolean() });

interface Entry<T> {
  value: T;
  expires: number;
}

/** Whether `value` has the shape of an object ID (letters, digits and `-`, 20 to 40 characters). */
export function looksLikeId(value: string): boolean {
  return ID_SHAPE.test(value);
}

/**
 * Wait for a shared promise on behalf of one caller: the caller's own signal rejects only its own wait and
 * leaves the shared work (and every other caller) alone.
 */
function withSignal<T>(shared: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function listChoices(choices: string[], total: number): string {
  const shown = choices.slice(0, MAX_LISTED_CHOICES).map((c) => ident(c));
  const more = Math.max(total, choices.length) - shown.length;
  return more > 0 ? `${shown.join(', ')}, and ${more} more` : shown.join(', ');
}

export class Resolver {
  readonly #client: DivioClient;
  readonly #ttlMs: number;
  readonly #apps = new Map<string, Entry<Application>>();
  // Listings cache the promise, so concurrent callers share one request; a failure is evicted at once. The
  // shared request runs under no caller's signal (only the client's own per-request timeout), and each caller
  // waits on it with its own signal, so one caller cancelling never fails the others.
  readonly #envs = new Map<string, Entry<Promise<Environment[]>>>();
  /** Applications whose environment list stopped at the page cap (a miss there may be a cut, not absence). */
  readonly #cutEnvLists = new Set<string>();
  #appList: Entry<Promise<{ apps: Application[]; total: number }>> | undefined;

  readonly #scrub: (text: string) => string;
  readonly #shared: { cache: SharedCache; scope: string } | undefined;

  /**
   * `scrub` redacts the token from text that ends up in an error (refs and slugs are echoed back). `shared`
   * adds a cache shared by replicas behind this process's own; `scope` keeps one token's entries apart.
   */
  constructor(
    client: DivioClient,
    ttlMs: number,
    scrub: (text: string) => string = (t) => t,
    shared?: { cache: SharedCache | undefined; scope: string },
  ) {
    this.#client = client;
    this.#ttlMs = ttlMs;
    this.#scrub = scrub;
    this.#shared = shared?.cache ? { cache: shared.cache, scope: shared.scope } : undefined;
  }

  async #sharedGet<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    if (!this.#shared) return undefined;
    const raw = await this.#shared.cache
      .cacheGet(`resolve:${this.#shared.scope}:${key}`)
      .catch(() => undefined);
    if (raw === undefined) return undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  #sharedSet(key: string, value: unknown): void {
    if (!this.#shared) return;
    void this.#shared.cache
      .cacheSet(`resolve:${this.#shared.scope}:${key}`, JSON.stringify(value), this.#ttlMs)
      .catch(() => undefined);
  }

  #error(
    kind: 'application' | 'environment',
    ref: string,
    choices: string[],
    message: string,
  ): ResolutionError {
    const scrub = this.#scrub;
    return new ResolutionError(kind, scrub(ref), choices.map(scrub), scrub(message));
  }

  invalidate(): void {
    this.#apps.clear();
    this.#envs.clear();
    this.#appList = undefined;
  }

  #fresh<T>(entry: Entry<T> | undefined): T | undefined {
    return entry && entry.expires > Date.now() ? entry.value : undefined;
  }

  /** Caches the resolution of one exact reference (what the caller typed), not the object's other spellings. */
  #remember(ref: string, app: Application, share = true): Application {
    this.#apps.set(ref, { value: app, expires: Date.now() + this.#ttlMs });
    if (share) this.#sharedSet(`app:${ref}`, app);
    return app;
  }

  #appListing(signal?: AbortSignal): Promise<{ apps: Application[]; total: number }> {
    const cached = this.#fresh(this.#appList);
    if (cached) return withSignal(cached, signal);
    const promise = this.#fetchAppListing();
    const entry = { value: promise, expires: Date.now() + this.#ttlMs };
    this.#appList = entry;
    promise.catch(() => {
      if (this.#appList === entry) this.#appList = undefined;
    });
    return withSignal(promise, signal);
  }

  async #fetchAppListing(): Promise<{ apps: Application[]; total: number }> {
    const apps: Application[] = [];
    let total = 0;
    let page = await this.#client.applications.list({ page_size: 100 });
    const seen = new Set<string>();
    for (let pages = 1; ; pages++) {
      total = page.count ?? total;
      for (const app of page.results) {
        if (apps.length < MAX_CACHED_APPS) apps.push(app);
      }
      const next = page.next;
      // A repeated link (or an endless chain of empty pages) must not loop forever.
      if (!next || seen.has(next) || apps.length >= MAX_CACHED_APPS || pages >= MAX_LISTING_PAGES) break;
      seen.add(next);
      page = await this.#client.getPageByUrl(next, ApplicationSchema);
    }
    return { apps, total: Math.max(total, apps.length) };
  }

  /** The first ≤ 200 visible applications (for completions and error hints). */
  async listApplicationsCached(signal?: AbortSignal): Promise<Application[]> {
    return (await this.#appListing(signal)).apps;
  }

  /** All environments of one application, cached. */
  listEnvironmentsCached(appUuid: string, signal?: AbortSignal): Promise<Environment[]> {
    const key = appUuid;
    const cached = this.#fresh(this.#envs.get(key));
    if (cached) return withSignal(cached, signal);
    const promise = (async () => {
      // Follows `next` up to the page cap; a cut list is still used, and a miss in it says so (see below).
      let listing = await this.#sharedGet(`envs:${key}`, CachedEnvironments);
      if (!listing) {
        const fetched = await this.#client.environments.all({ application: appUuid });
        listing = { items: fetched.items, complete: fetched.complete };
        this.#sharedSet(`envs:${key}`, listing);
      }
      if (!listing.complete) this.#cutEnvLists.add(key);
      else this.#cutEnvLists.delete(key);
      return listing.items;
    })();
    const entry = { value: promise, expires: Date.now() + this.#ttlMs };
    this.#envs.set(key, entry);
    promise.catch(() => {
      if (this.#envs.get(key) === entry) this.#envs.delete(key);
    });
    return withSignal(promise, signal);
  }

  async #appNotFound(ref: string, reason: string, signal?: AbortSignal): Promise<ResolutionError> {
    const { apps, total } = await this.#appListing(signal);
    const choices = apps.map((a) => a.slug);
    const list =
      choices.length > 0
        ? ` Valid applications: ${listChoices(choices, total)}. Call list_applications to see them all.`
        : ' No applications are visible to this token.';
    return this.#error('application', ref, choices, `Application ${quoteRef(ref)} ${reason}.${list}`);
  }

  /**
   * An application by slug or ID, whichever matches exactly. A base32 ID is also a valid slug spelling, so an
   * ID-shaped reference is looked up both ways at once (the CLI's `?slug=` filter and GetApplication, in
   * parallel: one round trip); anything else only by slug. A reference that is one application's slug and
   * another's ID is ambiguous and refused with both named.
   */
  async resolveApplication(ref: string, signal?: AbortSignal): Promise<Application> {
    const wanted = ref.trim();
    if (!wanted) throw await this.#appNotFound(ref, 'is not a valid application reference', signal);
    const hit = this.#fresh(this.#apps.get(wanted));
    if (hit) return hit;
    const shared = await this.#sharedGet(`app:${wanted}`, ApplicationSchema);
    if (shared) return this.#remember(wanted, shared, false);

    const bySlug = this.#client.applications
      .list({ slug: wanted }, { signal })
      .then((page) => page.results.filter((a) => a.slug === wanted));
    const byId = looksLikeId(wanted)
      ? this.#client.applications.get(wanted, { signal }).then(
          (app): Application | undefined => app,
          (err: unknown) => {
            if (err instanceof NotFoundError) return undefined;
            throw err;
          },
        )
      : Promise.resolve(undefined);
    // Both settle before either error is thrown, so no rejection is left unhandled.
    const [slugResult, idResult] = await Promise.allSettled([bySlug, byId]);
    if (slugResult.status === 'rejected') throw slugResult.reason;
    if (idResult.status === 'rejected') throw idResult.reason;
    const matches = slugResult.value;
    const idMatch = idResult.value;

    if (matches.length > 1) {
      const choices = matches.map((a) => a.uuid);
      throw this.#error(
        'application',
        wanted,
        choices,
        `Application ${quoteRef(wanted)} is ambiguous: it matches ${matches.length} applications (${choices.map((c) => ident(c)).join(', ')}). Pass the ID of the one you mean.`,
      );
    }
    const [bySlugOnly] = matches;
    if (bySlugOnly && idMatch && bySlugOnly.uuid !== idMatch.uuid) {
      throw this.#error(
        'application',
        wanted,
        [bySlugOnly.uuid, idMatch.slug],
        `Application ${quoteRef(wanted)} is ambiguous: it is the slug of one application (ID ${ident(bySlugOnly.uuid)}) and the ID of another (slug ${quoteRef(idMatch.slug)}). Pass ${ident(bySlugOnly.uuid)} for the first or ${quoteRef(idMatch.slug)} for the second; ask the user which one they mean.`,
      );
    }
    const found = bySlugOnly ?? idMatch;
    if (found) return this.#remember(wanted, found);
    throw await this.#appNotFound(wanted, 'was not found', signal);
  }

  async resolveEnvironment(
    app: Application | string,
    ref: string,
    signal?: AbortSignal,
  ): Promise<Environment> {
    const application = typeof app === 'string' ? await this.resolveApplication(app, signal) : app;
    const wanted = ref.trim();
    const envs = await this.listEnvironmentsCached(application.uuid, signal);
    // Exact match on slug or ID, whichever hits; case is never folded (IDs are opaque).
    const matches = envs.filter((e) => e.slug === wanted || e.uuid === wanted);
    const [only] = matches;
    if (matches.length === 1 && only) return only;
    const choices = envs.map((e) => e.slug);
    const appName = application.slug;
    if (matches.length > 1) {
      throw this.#error(
        'environment',
        wanted,
        choices,
        `Environment ${quoteRef(wanted)} is ambiguous in application ${quoteRef(appName)}: ${matches.map((e) => (e.slug === wanted ? `pass ${ident(e.uuid)} for the environment with that slug` : `${quoteRef(e.slug)} for the one with that ID`)).join(', or ')}. Ask the user which one they mean.`,
      );
    }
    const cut = this.#cutEnvLists.has(application.uuid.toLowerCase())
      ? ` Only the first ${choices.length} environments of it were read (the list stopped at its page cap); pass the environment's UUID.`
      : '';
    const list =
      (choices.length > 0
        ? ` Valid environments: ${listChoices(choices, choices.length)}.`
        : ' That application has no environments.') + cut;
    throw this.#error(
      'environment',
      wanted,
      choices,
      `Environment ${quoteRef(wanted)} was not found in application ${quoteRef(appName)}.${list}`,
    );
  }
}
