import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { displayRedisUrl, type SharedState, SharedStateUnavailableError } from './index.js';

/*
 * Shared state in Redis or Valkey. Only commands both have: SET with NX and PX (single use and the write
 * slot), EVAL (token bucket, compare-and-delete, compare-and-extend), GET, PING.
 * The client never queues a command while disconnected (enableOfflineQueue: false) and gives every command
 * a deadline, so an unreachable server makes a write fail at once instead of hanging the call.
 */

const PREFIX = 'divio-mcp:';

// Releases the slot only if it is still ours: a holder whose lease ran out must not free a later holder's slot.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
// The token bucket of takeFromBucket (index.ts), atomically: KEYS[1] = bucket; ARGV = perMinute, n, now (ms).
const BUCKET = `
local cap = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local perMs = cap / 60000
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
if now > at then
  tokens = math.min(cap, tokens + (now - at) * perMs)
  at = now
end
local wait = 0
if n > cap then
  wait = 60000
elseif tokens >= n then
  tokens = tokens - n
else
  wait = math.ceil((n - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], 60000)
return wait`;

/** Keys never hold a token itself, only its digest. */
function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

export interface RedisStateOptions {
  /** Deadline of one command and of connecting, in ms (default 2000). */
  timeoutMs?: number;
}

export class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  readonly where: string;
  readonly #redis: Redis;

  constructor(url: string, opts: RedisStateOptions = {}) {
    this.where = displayRedisUrl(url);
    const timeout = opts.timeoutMs ?? 2_000;
    this.#redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeout,
      commandTimeout: timeout,
      // Keep trying in the background (capped backoff): when Redis comes back, writes work again.
      retryStrategy: (times) => Math.min(100 * times, 2_000),
      enableReadyCheck: true,
    });
    // Connection errors surface as failed commands; without a listener ioredis would print each one.
    this.#redis.on('error', () => undefined);
  }

  /** Connects, waiting at most the timeout; false when Redis did not answer (the client keeps retrying). */
  async connect(): Promise<boolean> {
    try {
      await this.#redis.connect();
      return true;
    } catch {
      return false;
    }
  }

  async #run<T>(command: (r: Redis) => Promise<T>): Promise<T> {
    try {
      return await command(this.#redis);
    } catch (error) {
      throw new SharedStateUnavailableError(this.where, error);
    }
  }

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1_000, expiresAt - Date.now());
    const set = await this.#run((r) => r.set(`${PREFIX}used:${digest(key)}`, '1', 'PX', ttl, 'NX'));
    return set === 'OK';
  }

  async acquireSlot(key: string, leaseMs: number): Promise<(() => Promise<void>) | null> {
    const redisKey = `${PREFIX}slot:${digest(key)}`;
    const mine = randomBytes(16).toString('base64url');
    const set = await this.#run((r) => r.set(redisKey, mine, 'PX', leaseMs, 'NX'));
    if (set !== 'OK') return null;
    // Renew the lease while the write runs (long waits), so only a dead holder's slot expires.
    const timer = setInterval(
      () => void this.#redis.eval(RENEW, 1, redisKey, mine, String(leaseMs)).catch(() => undefined),
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      // If Redis is down now, the lease simply runs out.
      await this.#redis.eval(RELEASE, 1, redisKey, mine).catch(() => undefined);
    };
  }

  async takeRate(client: string, n: number, perMinute: number, now = Date.now()): Promise<number> {
    if (perMinute === 0) return 0;
    const wait = await this.#run((r) =>
      r.eval(BUCKET, 1, `${PREFIX}rate:${digest(client)}`, String(perMinute), String(n), String(now)),
    );
    return Number(wait);
  }

  async cacheGet(key: string): Promise<string | undefined> {
    try {
      return (await this.#redis.get(`${PREFIX}cache:${key}`)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async cacheSet(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#redis.set(`${PREFIX}cache:${key}`, value, 'PX', Math.max(1, ttlMs)).catch(() => undefined);
  }

  async problem(): Promise<string | null> {
    try {
      await this.#redis.ping();
      return null;
    } catch {
      return `Redis at ${this.where} is unreachable`;
    }
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
