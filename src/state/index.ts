/*
 * State that replicas behind one load balancer must agree on. Without DIVIO_MCP_REDIS_URL each process keeps
 * it in memory (MemoryState: what one process saw only); with it, in Redis or Valkey (RedisState), so that:
 *  - a confirmation token, or a declined dialog's state, is accepted once across all replicas;
 *  - at most one write per tool and environment runs at a time across all replicas;
 *  - the per-client rate limit counts the client's requests on every replica;
 *  - the resolution cache (app and environment look-ups) is filled once for all replicas.
 * Every operation that guards a write fails closed: when the store cannot be reached it throws
 * SharedStateUnavailableError and the caller refuses the write. Rate limiting and caching fall back to the
 * process's own memory instead, so reads keep working.
 */

/** The shared store could not be reached or did not answer; the write it guards must not run. */
export class SharedStateUnavailableError extends Error {
  override name = 'SharedStateUnavailableError';
  /** Where the store is, without credentials (e.g. `redis://cache.internal:6379/0`). */
  readonly where: string;
  constructor(where: string, cause?: unknown) {
    super(`The shared state store (Redis at ${where}) is unreachable.`, { cause });
    this.where = where;
  }
}

export interface SharedState {
  /** `memory` (this process only) or `redis` (shared by every replica using the same URL). */
  readonly kind: 'memory' | 'redis';
  /** For messages: `this process's memory` or the Redis URL without credentials. */
  readonly where: string;
  /** Marks `key` as used until `expiresAt` (epoch ms); false when it already was. Fails closed. */
  claimOnce(key: string, expiresAt: number): Promise<boolean>;
  /**
   * Takes the exclusive slot `key`; returns its release, or null when another holder has it. A holder that
   * dies without releasing loses the slot after `leaseMs` (the lease is renewed while it is held). Fails closed.
   */
  acquireSlot(key: string, leaseMs: number): Promise<(() => Promise<void>) | null>;
  /**
   * Token bucket of `perMinute` requests a minute per `client`: takes `n`; 0 when allowed, else the ms until
   * they would be. Throws SharedStateUnavailableError when the store is down (the caller then limits locally).
   */
  takeRate(client: string, n: number, perMinute: number, now?: number): Promise<number>;
  /** A cached string, or undefined (also when the store is down: a cache miss is always safe). */
  cacheGet(key: string): Promise<string | undefined>;
  /** Caches a string for `ttlMs`; silently does nothing when the store is down. */
  cacheSet(key: string, value: string, ttlMs: number): Promise<void>;
  /** null when the store answers, otherwise why not (for /readyz). */
  problem(): Promise<string | null>;
  close(): Promise<void>;
}

/** The per-client token bucket both stores implement (the Redis one in Lua, with the same arithmetic). */
export function takeFromBucket(
  bucket: { tokens: number; at: number },
  n: number,
  perMinute: number,
  now: number,
): number {
  const perMs = perMinute / 60_000;
  // Replicas' clocks differ a little: a bucket never refills backwards.
  if (now > bucket.at) {
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
  }
  if (n > perMinute) return 60_000;
  if (bucket.tokens >= n) {
    bucket.tokens -= n;
    return 0;
  }
  return Math.ceil((n - bucket.tokens) / perMs);
}

/** Today's single-process behaviour: everything lives in this process and is lost when it exits. */
export class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  readonly where = "this process's memory";
  readonly #used = new Map<string, number>();
  readonly #slots = new Set<string>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #cache = new Map<string, { value: string; expires: number }>();

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    for (const [k, exp] of this.#used) if (exp < now) this.#used.delete(k);
    if (this.#used.has(key)) return false;
    this.#used.set(key, expiresAt > now ? expiresAt : now + 3_600_000);
    return true;
  }

  async acquireSlot(key: string): Promise<(() => Promise<void>) | null> {
    if (this.#slots.has(key)) return null;
    this.#slots.add(key);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.#slots.delete(key);
    };
  }

  async takeRate(client: string, n: number, perMinute: number, now = Date.now()): Promise<number> {
    if (perMinute === 0) return 0;
    const bucket = this.#buckets.get(client) ?? { tokens: perMinute, at: now };
    this.#buckets.set(client, bucket);
    const wait = takeFromBucket(bucket, n, perMinute, now);
    // Forgets clients whose bucket has refilled: they are indistinguishable from new ones.
    if (this.#buckets.size > 10_000) {
      for (const [c, b] of this.#buckets)
        if (b.tokens + (now - b.at) * (perMinute / 60_000) >= perMinute) this.#buckets.delete(c);
    }
    return wait;
  }

  async cacheGet(key: string): Promise<string | undefined> {
    const entry = this.#cache.get(key);
    if (!entry) return undefined;
    if (entry.expires > Date.now()) return entry.value;
    this.#cache.delete(key);
    return undefined;
  }

  async cacheSet(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.#cache.size > 5_000) this.#cache.clear();
    this.#cache.set(key, { value, expires: Date.now() + ttlMs });
  }

  async problem(): Promise<string | null> {
    return null;
  }

  async close(): Promise<void> {}
}

/**
 * A Redis URL for messages and logs: scheme, host, port and database only. The user name and password
 * (`redis://:secret@host`) never appear.
 */
export function displayRedisUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const port = u.port || '6379';
    const db = u.pathname && u.pathname !== '/' ? u.pathname : '';
    return `${u.protocol}//${u.hostname}:${port}${db}`;
  } catch {
    return '(an unparsable URL)';
  }
}
