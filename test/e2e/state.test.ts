import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/cli/args.js';
import { ConfigError } from '../../src/mcp/config.js';
import { displayRedisUrl, MemoryState, SharedStateUnavailableError } from '../../src/state/index.js';
import { RedisState } from '../../src/state/redis.js';
import { freePort, HAVE_REDIS, type RedisServer, startRedis } from '../helpers/redis.js';

describe('Redis URL', () => {
  it('is shown without user name or password', () => {
    expect(displayRedisUrl('redis://admin:s3cret-pass@cache.internal:6380/2')).toBe(
      'redis://cache.internal:6380/2',
    );
    expect(displayRedisUrl('rediss://:s3cret-pass@cache.internal')).toBe('rediss://cache.internal:6379');
  });

  it('must be redis:// or rediss://; the error never shows the password', () => {
    expect(parseRedisUrl(undefined)).toBeUndefined();
    expect(parseRedisUrl('  ')).toBeUndefined();
    expect(parseRedisUrl('redis://:pw@h:1/0')).toBe('redis://:pw@h:1/0');
    let error: unknown;
    try {
      parseRedisUrl('http://user:s3cret-pass@cache.internal:6379');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('redis://');
    expect(String(error)).toContain('cache.internal');
    expect(String(error)).not.toContain('s3cret-pass');
    expect(() => parseRedisUrl('not a url')).toThrow(/not a URL/);
  });
});

// Each test uses its own keys (or its own server), so they run concurrently: the lease test waits on real time.
describe.skipIf(!HAVE_REDIS)('RedisState against a real redis-server', { concurrent: true }, () => {
  let redis: RedisServer;
  const states: RedisState[] = [];
  const open = async (url = redis.url, timeoutMs?: number) => {
    const s = new RedisState(url, timeoutMs ? { timeoutMs } : {});
    states.push(s);
    await s.connect();
    return s;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of states) await s.close();
    await redis?.stop();
  });

  it('claims a key once across replicas, even when 20 claims race', async () => {
    const a = await open();
    const b = await open();
    const key = `token:${Math.random()}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimOnce(key, Date.now() + 60_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.claimOnce(`other:${Math.random()}`, Date.now() + 60_000)).toBe(true);
  });

  it('holds one write slot across replicas; a release frees only its own holder', async () => {
    const a = await open();
    const b = await open();
    const key = `restore_backup:${Math.random()}`;
    const first = await a.acquireSlot(key, 200);
    expect(first).not.toBeNull();
    expect(await b.acquireSlot(key, 200)).toBeNull();
    await first?.();
    const second = await b.acquireSlot(key, 60_000);
    expect(second).not.toBeNull();
    // A second release of the first holder (whose turn is over) must not free the second holder's slot.
    await first?.();
    expect(await a.acquireSlot(key, 60_000)).toBeNull();
    await second?.();
    const third = await a.acquireSlot(key, 60_000);
    expect(third).not.toBeNull();
    await third?.();
  });

  it('renews the lease while the slot is held, and a dead holder loses it after the lease', async () => {
    const a = await open();
    const b = await open();
    const key = `set_environment_variable:${Math.random()}`;
    const held = await a.acquireSlot(key, 600);
    // Two and a half leases later the holder still has it (renewed every 200 ms), so nobody else gets it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await b.acquireSlot(key, 300)).toBeNull();
    // The holder dies without releasing: its renewals stop and the lease runs out.
    await a.close();
    let taken: (() => Promise<void>) | null = null;
    for (let i = 0; i < 100 && !taken; i++) {
      taken = await b.acquireSlot(key, 300);
      if (!taken) await new Promise((r) => setTimeout(r, 50));
    }
    expect(taken).not.toBeNull();
    await taken?.();
    void held;
  });

  it('counts one client across replicas in one token bucket', async () => {
    const a = await open();
    const b = await open();
    const client = `10.0.0.${Math.floor(Math.random() * 200)}`;
    const now = Date.now();
    const waits = [
      await a.takeRate(client, 1, 3, now),
      await b.takeRate(client, 1, 3, now),
      await a.takeRate(client, 1, 3, now),
      await b.takeRate(client, 1, 3, now),
    ];
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    // 3 a minute: the fourth waits for one token, 20 s.
    expect(waits[3]).toBe(20_000);
    // The same arithmetic as the in-process bucket.
    const m = new MemoryState();
    const local = [1, 2, 3, 4].map(() => 0);
    for (let i = 0; i < 4; i++) local[i] = await m.takeRate(client, 1, 3, now);
    expect(local).toEqual(waits);
    // Refilled as time passes (a replica's clock a little behind never takes tokens back).
    expect(await b.takeRate(client, 1, 3, now + 20_000)).toBe(0);
    expect(await a.takeRate(client, 1, 3, now + 19_000)).toBe(20_000);
  });

  it('caches strings with a time to live', async () => {
    const a = await open();
    const b = await open();
    const key = `k${Math.random()}`;
    await a.cacheSet(key, 'value', 150);
    expect(await b.cacheGet(key)).toBe('value');
    await new Promise((r) => setTimeout(r, 250));
    expect(await b.cacheGet(key)).toBeUndefined();
  });

  // The two tests below take a free port and expect nothing (then, in the second, a new redis-server) on it: they
  // run one after the other, so one cannot start Redis on a port the other was given too.
  it.sequential('fails closed when Redis is unreachable, naming where it is without the password', async () => {
    const port = await freePort();
    const down = await open(`redis://:s3cret-pass@127.0.0.1:${port}/0`, 300);
    let error: unknown;
    try {
      await down.claimOnce('t', Date.now() + 1000);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SharedStateUnavailableError);
    expect((error as SharedStateUnavailableError).where).toBe(`redis://127.0.0.1:${port}/0`);
    expect(String(error)).not.toContain('s3cret');
    await expect(down.acquireSlot('s', 1000)).rejects.toBeInstanceOf(SharedStateUnavailableError);
    await expect(down.takeRate('c', 1, 10)).rejects.toBeInstanceOf(SharedStateUnavailableError);
    // A cache is only a cache: a miss, never an error.
    expect(await down.cacheGet('k')).toBeUndefined();
    await down.cacheSet('k', 'v', 1000);
    expect(await down.problem()).toBe(`Redis at redis://127.0.0.1:${port}/0 is unreachable`);
  });

  it.sequential('works again once Redis is back', async () => {
    const port = await freePort();
    const s = await open(`redis://127.0.0.1:${port}`, 300);
    expect(await s.problem()).not.toBeNull();
    const late = await startRedis(port);
    try {
      let problem: string | null = 'not yet';
      for (let i = 0; i < 100 && problem; i++) {
        problem = await s.problem();
        if (problem) await new Promise((r) => setTimeout(r, 50));
      }
      expect(problem).toBeNull();
      expect(await s.claimOnce(`back:${Math.random()}`, Date.now() + 1000)).toBe(true);
    } finally {
      await late.stop();
    }
  });
});
