import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectionError,
  DivioClient,
  type Environment,
  NotFoundError,
  RateLimitError,
  ResolutionError,
  ResponseFormatError,
  TimeoutError,
  ValidationError,
} from '../src/client/index.js';
import { startSandbox, uuidFromName } from '../src/sandbox/index.js';
import { FakeClock } from './helpers/clock.js';

// Every resource method of the client against the real in-process sandbox (loopback only).

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

let sandbox: Sandbox;
let client: DivioClient;

beforeAll(async () => {
  sandbox = await startSandbox({
    host: '127.0.0.1',
    port: 0,
    timings: { deployMs: 40, backupMs: 40, restoreMs: 40, downloadMs: 40 },
  });
  client = new DivioClient({
    token: sandbox.token,
    baseUrl: sandbox.url,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
});

afterAll(async () => {
  await client?.close();
  await sandbox?.close();
});

/** Poll `read` until `done` holds; bounded by attempts, not by wall-clock assertions. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, attempts = 250): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await read();
    if (done(value)) return value;
    await delay(20);
  }
  throw new Error('condition not reached');
}

async function shopEnv(slug: string): Promise<Environment> {
  return client.resolveEnvironment('shop', slug);
}

describe('identity', () => {
  it('users.me, organisations.list/get', async () => {
    const me = await client.users.me();
    expect(me.uuid).toBeTruthy();
    const orgs = await client.organisations.list();
    expect(orgs.results.length).toBeGreaterThan(0);
    const org = orgs.results[0]!;
    expect((await client.organisations.get(org.uuid)).uuid).toBe(org.uuid);
  });

  it('a wrong token gives AuthenticationError', async () => {
    const bad = new DivioClient({ token: 'definitely-wrong-token', baseUrl: sandbox.url });
    try {
      await expect(bad.users.me()).rejects.toBeInstanceOf(AuthenticationError);
    } finally {
      await bad.close();
    }
  });
});

describe('applications and environments', () => {
  it('applications.list/get/iterate, paging with page_size', async () => {
    const first = await client.applications.list({ page_size: 2 });
    expect(first.results).toHaveLength(2);
    expect(first.count).toBeGreaterThan(2);
    expect(first.next).toBeTruthy();
    const all: string[] = [];
    for await (const app of client.applications.iterate({ page_size: 2 })) all.push(app.slug);
    expect(all).toHaveLength(first.count!);
    expect(all).toEqual(expect.arrayContaining(['shop', 'blog']));
    const second = await client.getPageByUrl(first.next!);
    expect(second.results).toHaveLength(2);
    const bySlug = await client.applications.list({ slug: 'shop' });
    expect(bySlug.results.map((a) => a.slug)).toEqual(['shop']);
    const shop = await client.applications.get(bySlug.results[0]!.uuid);
    expect(shop.slug).toBe('shop');
  });

  it('resolves applications and environments, with choices on a miss', async () => {
    const shop = await client.resolveApplication('shop');
    expect((await client.resolveApplication(shop.uuid)).slug).toBe('shop');
    const err = await client.resolveApplication('shpo').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolutionError);
    expect((err as ResolutionError).choices).toEqual(expect.arrayContaining(['shop', 'blog']));
    expect((err as Error).message).toContain("Application 'shpo' was not found.");

    const live = await client.resolveEnvironment(shop, 'live');
    expect(live.slug).toBe('live');
    expect((await client.resolveEnvironment('shop', live.uuid)).uuid).toBe(live.uuid);
    const envErr = (await client
      .resolveEnvironment('shop', 'prod')
      .catch((e: unknown) => e)) as ResolutionError;
    expect(envErr).toBeInstanceOf(ResolutionError);
    expect(envErr.choices).toEqual(expect.arrayContaining(['test', 'live']));
    expect((await client.listApplicationsCached()).length).toBeGreaterThan(1);
    expect((await client.listEnvironmentsCached(shop.uuid)).length).toBeGreaterThan(1);
  });

  it('environments.list/get/iterate; detail nests the application', async () => {
    const shop = await client.resolveApplication('shop');
    const page = await client.environments.list({ application: shop.uuid });
    expect(page.results.map((e) => e.slug)).toEqual(expect.arrayContaining(['test', 'live']));
    expect(page.results[0]!.application).toBe(shop.uuid);
    const test = page.results.find((e) => e.slug === 'test')!;
    const detail = await client.environments.get(test.uuid);
    expect(detail.application).toMatchObject({ uuid: shop.uuid });
    const slugs: string[] = [];
    for await (const e of client.environments.iterate({ application: shop.uuid, slug: 'test' }))
      slugs.push(e.slug);
    expect(slugs).toEqual(['test']);
  });

  it('environments.get of an unknown ID is NotFoundError', async () => {
    await expect(client.environments.get(uuidFromName('missing'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('environments.logs and the cursor via logsPage', async () => {
    const env = await shopEnv('live');
    const first = await client.environments.logs(env.uuid, { limit: 5 });
    expect(first.results.length).toBeGreaterThan(0);
    expect(first.results.length).toBeLessThanOrEqual(5);
    expect(first.results[0]).toHaveProperty('message');
    expect('count' in first).toBe(false);
    expect(first.previous).toEqual(expect.any(String));
    expect(first.next).toEqual(expect.any(String));
    const stamp = (e: { timestamp?: unknown }) => Date.parse(String(e.timestamp));
    const key = (e: { timestamp?: unknown; message?: unknown }) =>
      `${String(e.timestamp)}|${String(e.message)}`;
    const firstKeys = new Set(first.results.map(key));
    const older = await client.environments.logsPage(first.previous!);
    expect(older.results.length).toBeGreaterThan(0);
    for (const e of older.results) {
      expect(firstKeys.has(key(e))).toBe(false);
      expect(stamp(e)).toBeLessThanOrEqual(stamp(first.results[0]!));
    }
    // Walk back one more page, then follow `next` from there: it must bring newer, different entries.
    const newer = await client.environments.logsPage(older.next!);
    expect(newer.results.length).toBeGreaterThan(0);
    const olderKeys = new Set(older.results.map(key));
    for (const e of newer.results) {
      expect(olderKeys.has(key(e))).toBe(false);
      expect(stamp(e)).toBeGreaterThanOrEqual(stamp(older.results.at(-1)!));
    }
    const web = await client.environments.logs(env.uuid, { service: 'web', limit: 3 });
    for (const entry of web.results) expect(entry.service).toBe('web');
  });
});

describe('deployments', () => {
  it('list/get/create/logs', async () => {
    const env = await shopEnv('test');
    const listed = await client.deployments.list({ environment: env.uuid, page_size: 5 });
    const created = await client.deployments.create({ environment: env.uuid, build_mode: 'AUTO' });
    expect(created.uuid).toBeTruthy();
    const finished = await until(
      () => client.deployments.get(created.uuid),
      (d) => d.ended_at != null,
    );
    expect(typeof finished.success).toBe('boolean');
    const logs = await client.deployments.logs(created.uuid);
    expect(logs.uuid).toBe(created.uuid);
    expect(typeof logs.logs).toBe('string');
    const after = await client.deployments.list({ environment: env.uuid });
    expect(after.count).toBe((listed.count ?? 0) + 1);
    const byApp = await client.deployments.list({
      application: (await client.resolveApplication('shop')).uuid,
    });
    expect(byApp.results.length).toBeGreaterThan(0);
  });
});

describe('backups, restores and downloads', () => {
  it('service instances, backup, service instance backups, download, restore', async () => {
    const env = await shopEnv('test');
    const instances = await client.serviceInstances.list({ environment: env.uuid });
    expect(instances.results.length).toBeGreaterThan(0);
    const db = instances.results.find((si) => si.type === 'DATABASE') ?? instances.results[0]!;
    expect((await client.serviceInstances.get(db.uuid)).uuid).toBe(db.uuid);

    const backup = await client.backups.create({
      environment: env.uuid,
      services: [db.uuid],
      notes: 'client test',
      scheduled_for_deletion_at: null,
      trigger: 'MANUAL',
    });
    const done = await until(
      () => client.backups.get(backup.uuid),
      (b) => b.state === 'COMPLETED',
    );
    expect(done.success).toBe('SUCCESS');
    const sibIds = done.service_instance_backups ?? [];
    expect(sibIds.length).toBe(1);
    const backups = await client.backups.list({ environment: env.uuid });
    expect(backups.results.map((b) => b.uuid)).toContain(backup.uuid);

    const sibs = await client.serviceInstanceBackups.list({ uuid: sibIds });
    expect(sibs.results.map((s) => s.uuid)).toEqual(sibIds);
    const sib = await client.serviceInstanceBackups.get(sibIds[0]!);
    expect(sib.backup).toBe(backup.uuid);

    const download = await client.backupDownloads.create({
      backup: backup.uuid,
      service_instance_backups: sibIds,
      trigger: 'PULL',
    });
    expect((await client.backupDownloads.get(download.uuid)).backup).toBe(backup.uuid);
    expect((await client.backupDownloads.list()).results.map((d) => d.uuid)).toContain(download.uuid);
    const parts = await client.backupDownloadServiceInstances.list({ backup_download: download.uuid });
    expect(parts.results).toHaveLength(1);
    const part = await until(
      () => client.backupDownloadServiceInstances.get(parts.results[0]!.uuid),
      (p) => p.ended_at != null,
    );
    expect(part.download_url).toBeTruthy();
    const bySib = await client.backupDownloadServiceInstances.list({ service_instance_backup: sibIds[0]! });
    expect(bySib.results.map((p) => p.uuid)).toContain(part.uuid);

    const restore = await client.backupRestores.create({
      backup: backup.uuid,
      service_instance_restores: [{ service_instance_backup: sibIds[0]! }],
      notes: 'client test restore',
    });
    const restored = await until(
      () => client.backupRestores.get(restore.uuid),
      (r) => r.finished === true,
    );
    expect(restored.success).toBe('SUCCESS');
    const restores = await client.backupRestores.list({ environment: env.uuid });
    expect(restores.results.map((r) => r.uuid)).toContain(restore.uuid);
  });

  it('backups.create with an empty services list is a ValidationError with field errors', async () => {
    const env = await shopEnv('test');
    const err = (await client.backups
      .create({ environment: env.uuid, services: [] as string[] })
      .catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.fieldErrors['services']).toEqual(['This list may not be empty.']);
  });

  it('backups.create ignores a sent trigger (not in the request schema): the backup is MANUAL', async () => {
    const env = await shopEnv('test');
    const instances = await client.serviceInstances.list({ environment: env.uuid });
    const backup = await client.backups.create({
      environment: env.uuid,
      services: [instances.results[0]!.uuid],
      trigger: 'NOPE',
    });
    expect(backup.trigger).toBe('MANUAL');
    expect((await client.backups.get(backup.uuid)).trigger).toBe('MANUAL');
  });
});

describe('environment variables', () => {
  it('create/list/get/update/delete', async () => {
    const env = await shopEnv('test');
    const shop = await client.resolveApplication('shop');
    const created = await client.environmentVariables.create({
      name: 'CLIENT_TEST_VAR',
      environment: env.uuid,
      value: 'one',
      is_sensitive: false,
    });
    expect(created.name).toBe('CLIENT_TEST_VAR');
    const listed = await client.environmentVariables.list({ environment: env.uuid, name: 'CLIENT_TEST_VAR' });
    expect(listed.results.map((v) => v.uuid)).toEqual([created.uuid]);
    const byApp = await client.environmentVariables.list({ application: [shop.uuid] });
    expect(byApp.results.map((v) => v.uuid)).toContain(created.uuid);
    expect((await client.environmentVariables.get(created.uuid)).value).toBe('one');
    const updated = await client.environmentVariables.update(created.uuid, { value: 'two' });
    expect(updated.value).toBe('two');
    await expect(client.environmentVariables.delete(created.uuid)).resolves.toBeUndefined();
    await expect(client.environmentVariables.get(created.uuid)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('listing without a filter is rejected by the API', async () => {
    await expect(client.environmentVariables.list()).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('domains, cronjobs, regions, services', () => {
  it('domains.list/get', async () => {
    const shop = await client.resolveApplication('shop');
    const env = await shopEnv('live');
    const byApp = await client.domains.list({ application: shop.uuid });
    expect(byApp.results.length).toBeGreaterThan(0);
    const byEnv = await client.domains.list({ environment: env.uuid });
    for (const d of byEnv.results) expect(d.environment).toBe(env.uuid);
    const first = byApp.results[0]!;
    expect((await client.domains.get(first.uuid)).name).toBe(first.name);
  });

  it('cronjobs.list (limit/offset)/iterate/get', async () => {
    const page = await client.cronjobs.list({ limit: 1 });
    expect(page.results.length).toBeLessThanOrEqual(1);
    const all: string[] = [];
    for await (const c of client.cronjobs.iterate({ limit: 2 })) all.push(c.uuid);
    expect(all.length).toBe(page.count ?? all.length);
    expect(new Set(all).size).toBe(all.length);
    if (all.length > 0) {
      const job = await client.cronjobs.get(all[0]!);
      expect(job.uuid).toBe(all[0]);
      const byEnv = await client.cronjobs.list({ environment: job.environment!, offset: 0 });
      expect(byEnv.results.map((c) => c.uuid)).toContain(job.uuid);
    }
  });

  it('regions.list/get and services.list/get', async () => {
    const regions = await client.regions.list();
    expect(regions.results.length).toBeGreaterThan(0);
    const region = regions.results[0]!;
    expect((await client.regions.get(region.uuid)).uuid).toBe(region.uuid);
    const services = await client.services.list({ region: region.uuid });
    expect(services.results.length).toBeGreaterThan(0);
    const shop = await client.resolveApplication('shop');
    const all = await client.services.list();
    const forApp = await client.services.list({ website: shop.uuid });
    expect(forApp.results.length).toBeGreaterThan(0);
    expect(forApp.results.length).toBeLessThan(all.results.length);
    for (const x of forApp.results) expect(x.region).toBe(shop.region);
    const service = services.results[0]!;
    expect((await client.services.get(service.uuid)).uuid).toBe(service.uuid);
  });
});

describe('over real HTTP with injected faults', () => {
  afterEach(() => {
    sandbox.faults.reset();
    sandbox.clearRequestLog();
  });

  const logged = (method: string, prefix: string) =>
    sandbox.requestLog.filter((r) => r.method === method && r.path.startsWith(prefix));

  it('retries a GET through two 503s', async () => {
    sandbox.faults.set([{ method: 'GET', path: '/apps/v3/regions/', count: 2, error: { status: 503 } }]);
    sandbox.clearRequestLog();
    const page = await client.regions.list();
    expect(page.results.length).toBeGreaterThan(0);
    expect(logged('GET', '/apps/v3/regions/')).toHaveLength(3);
  });

  it('retries a GET after a connection reset', async () => {
    sandbox.faults.set([{ method: 'GET', path: '/iam/v3/me/', count: 1, reset: true }]);
    const me = await client.users.me();
    expect(me.uuid).toBeTruthy();
  });

  it('never repeats a POST whose connection died after the server handled it', async () => {
    const env = await shopEnv('test');
    sandbox.faults.set([
      { method: 'POST', path: '/apps/v3/deployments/', count: 1, resetAfterHandling: true },
    ]);
    sandbox.clearRequestLog();
    const err = await client.deployments.create({ environment: env.uuid }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).mayHaveReachedServer).toBe(true);
    expect(logged('POST', '/apps/v3/deployments/')).toHaveLength(1);
  });

  it('gives a long Retry-After back at once', async () => {
    sandbox.faults.set([
      { method: 'GET', path: '/iam/v3/me/', count: 5, rateLimit: { retryAfterSeconds: 60 } },
    ]);
    sandbox.clearRequestLog();
    const err = (await client.users.me().catch((e: unknown) => e)) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfterMs).toBe(60_000);
    expect(logged('GET', '/iam/v3/me/')).toHaveLength(1);
  });

  it('honours a short Retry-After (waited on a fake clock)', async () => {
    const waits = new FakeClock();
    const c = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url, clock: waits });
    try {
      sandbox.faults.set([
        { method: 'GET', path: '/iam/v3/me/', count: 1, rateLimit: { retryAfterSeconds: 2 } },
      ]);
      expect((await c.users.me()).uuid).toBeTruthy();
      expect(waits.slept).toEqual([2000]);
    } finally {
      await c.close();
    }
  });

  it('maps a truncated JSON body to ResponseFormatError', async () => {
    sandbox.faults.set([{ method: 'GET', path: '/apps/v3/regions/', count: 3, malformedJson: true }]);
    await expect(client.regions.list()).rejects.toBeInstanceOf(ResponseFormatError);
  });

  it('times out a body that trickles in too slowly', async () => {
    sandbox.faults.set([{ method: 'GET', path: '/iam/v3/me/', count: 1, slowBody: { durationMs: 5_000 } }]);
    // A per-request timeout far below the 5 s trickle.
    const err = await client.request('GET', '/iam/v3/me/', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it('cancels a slow request with an AbortSignal', async () => {
    sandbox.faults.set([{ method: 'GET', path: '/iam/v3/me/', count: 1, latencyMs: 10_000 }]);
    const ctl = new AbortController();
    const pending = client.users.me({ signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('cancelled')), 20);
    await expect(pending).rejects.toThrow('cancelled');
  });
});
