import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  baseUrlFromZone,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  CrossOriginError,
  clientOptionsFromEnv,
  DivioClient,
  type DivioClientOptions,
  DivioError,
  NotFoundError,
  PermissionDeniedError,
  parseRetryAfter,
  path,
  RateLimitError,
  ResolutionError,
  ResponseFormatError,
  ServerError,
  TimeoutError,
  ValidationError,
  VERSION,
} from '../src/client/index.js';
import { FakeClock, turn } from './helpers/clock.js';

const BASE = 'https://api.example.test';
const TOKEN = 'tok_SECRET_9f8e7d6c5b4a';
// IDs in the live shape: 26 lowercase base32 characters (the API's captured responses; see test/ids.test.ts).
const APP = 'lqt3nqf6ufblletko36vgwmmti';
const ENV_TEST = 'fwwk5i3acnao5mfq6263ennkfe';
const ENV_LIVE = 'baln7mifvnci3eaoddqwihz7jm';
const BLOG = 'gxwethx25rbadiuf3momtgjhnq';
const JSON_HEADERS = { 'content-type': 'application/json' };

let agent: MockAgent;
let clock: FakeClock;
/** What the client waited between attempts, in ms (on the fake clock: no test waits for real). */
let sleeps: number[];

function makeClient(extra: Partial<DivioClientOptions> = {}): DivioClient {
  return new DivioClient({
    token: TOKEN,
    baseUrl: BASE,
    dispatcher: agent,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    clock,
    ...extra,
  });
}

const pool = () => agent.get(BASE);

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  clock = new FakeClock();
  sleeps = clock.slept;
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

describe('configuration', () => {
  it('reads the environment and derives the base URL from a zone', () => {
    const noNetrc = {
      readFile: () => {
        throw Object.assign(new Error('no file'), { code: 'ENOENT' });
      },
    };
    const envOptions = (env: NodeJS.ProcessEnv) => {
      const { credentials: _credentials, ...rest } = clientOptionsFromEnv(env, noNetrc);
      return rest;
    };
    expect(envOptions({ DIVIO_API_TOKEN: ' t ' })).toEqual({ token: 't' });
    expect(envOptions({ DIVIO_ZONE: 'dev.aldryn.net' })).toEqual({
      baseUrl: 'https://api.dev.aldryn.net',
      zone: 'dev.aldryn.net',
    });
    expect(envOptions({ DIVIO_ZONE: 'http://localhost:9000' })).toEqual({
      baseUrl: 'http://localhost:9000',
    });
    expect(envOptions({ DIVIO_API_URL: 'https://x.test', DIVIO_ZONE: 'y' })).toEqual({
      baseUrl: 'https://x.test',
      zone: 'y',
    });
    // the zone still names the token page when the URL (e.g. a proxy) sets the address
    expect(
      new DivioClient(envOptions({ DIVIO_API_URL: 'https://x.test', DIVIO_ZONE: 'y' })).tokenPageUrl,
    ).toBe('https://control.y/account/access-tokens/');
    expect(baseUrlFromZone('divio.com')).toBe('https://api.divio.com');
    expect(new DivioClient({}).baseUrl).toBe('https://api.divio.com');
    expect(new DivioClient({ baseUrl: 'http://127.0.0.1:8080/' }).baseUrl).toBe('http://127.0.0.1:8080');
    expect(() => new DivioClient({ baseUrl: 'ftp://x' })).toThrow(ConfigurationError);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('throws ConfigurationError without touching the network when no token is set', async () => {
    const client = new DivioClient({ baseUrl: BASE, dispatcher: agent });
    expect(client.hasToken).toBe(false);
    const err = await client.applications.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toContain('https://control.example.test/account/access-tokens/');
    expect((err as Error).message).toContain('DIVIO_API_TOKEN');
  });
});

describe('path template', () => {
  it('encodes each interpolation as one segment', () => {
    expect(path`/apps/v3/environments/${'a/b'}/`).toBe('/apps/v3/environments/a%2Fb/');
    expect(path`/x/${'../x'}/`).toBe('/x/..%2Fx/');
    expect(path`/x/${'a b?c#d'}/`).toBe('/x/a%20b%3Fc%23d/');
  });

  it('refuses empty, . and ..', () => {
    expect(() => path`/x/${'..'}/`).toThrow(DivioError);
    expect(() => path`/x/${'.'}/`).toThrow(DivioError);
    expect(() => path`/x/${''}/`).toThrow(DivioError);
  });

  it('keeps a hostile id inside the resource path on the wire', async () => {
    pool()
      .intercept({ path: '/apps/v3/environments/..%2F..%2Fiam%2Fv3%2Fme/', method: 'GET' })
      .reply(200, { uuid: 'x', slug: 'test' }, { headers: JSON_HEADERS });
    const env = await makeClient().environments.get('../../iam/v3/me');
    expect(env.uuid).toBe('x');
  });
});

describe('request basics', () => {
  it('sends Authorization, User-Agent, Accept and a JSON body', async () => {
    let seen: Record<string, string> = {};
    let sentBody = '';
    pool()
      .intercept({ path: '/apps/v3/deployments/', method: 'POST' })
      .reply((opts) => {
        seen = opts.headers as Record<string, string>;
        sentBody = String(opts.body);
        return {
          statusCode: 201,
          data: { uuid: 'd1', environment: ENV_TEST },
          responseOptions: { headers: JSON_HEADERS },
        };
      });
    const dep = await makeClient().deployments.create({ environment: ENV_TEST, build_mode: 'AUTO' });
    expect(dep.uuid).toBe('d1');
    expect(seen.authorization).toBe(`Token ${TOKEN}`);
    expect(seen['user-agent']).toBe(`divio-mcp/${VERSION}`);
    expect(seen.accept).toBe('application/json');
    expect(seen['content-type']).toBe('application/json');
    expect(JSON.parse(sentBody)).toEqual({ environment: ENV_TEST, build_mode: 'AUTO' });
  });

  it('sends array query params as repeated keys', async () => {
    pool()
      .intercept({ path: `/apps/v3/applications/?uuid=a&uuid=b&page_size=5`, method: 'GET' })
      .reply(200, { count: 0, next: null, previous: null, results: [] }, { headers: JSON_HEADERS });
    const page = await makeClient().applications.list({ uuid: ['a', 'b'], page_size: 5, slug: undefined });
    expect(page.results).toEqual([]);
  });

  it('returns undefined for a 204 DELETE', async () => {
    pool().intercept({ path: '/apps/v3/environment-variables/v1/', method: 'DELETE' }).reply(204, '');
    await expect(makeClient().environmentVariables.delete('v1')).resolves.toBeUndefined();
  });

  it('accepts the nested application object of the environment detail view', async () => {
    pool()
      .intercept({ path: `/apps/v3/environments/${ENV_TEST}/`, method: 'GET' })
      .reply(
        200,
        {
          uuid: ENV_TEST,
          slug: 'test',
          application: { uuid: APP, name: 'Shop' },
          last_finished_deployment: null,
          extra_field: 1,
        },
        { headers: JSON_HEADERS },
      );
    const env = await makeClient().environments.get(ENV_TEST);
    expect(env.application).toMatchObject({ uuid: APP });
    expect(env.extra_field).toBe(1);
  });

  it('maps malformed JSON and schema mismatches to ResponseFormatError', async () => {
    pool()
      .intercept({ path: '/apps/v3/regions/r1/', method: 'GET' })
      .reply(200, '<html>oops', {
        headers: { 'content-type': 'text/html' },
      });
    pool().intercept({ path: '/apps/v3/regions/r2/', method: 'GET' }).reply(200, { name: 'no uuid' });
    const client = makeClient();
    await expect(client.regions.get('r1')).rejects.toBeInstanceOf(ResponseFormatError);
    const err = await client.regions.get('r2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseFormatError);
    expect((err as Error).message).toContain('uuid');
  });

  it('refuses a response body larger than maxResponseBytes', async () => {
    const big = { uuid: 'r', name: 'x'.repeat(5000) };
    pool()
      .intercept({ path: '/apps/v3/regions/r1/', method: 'GET' })
      .reply(200, big, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/regions/r2/', method: 'GET' })
      .reply(200, JSON.stringify(big), { headers: { ...JSON_HEADERS, 'content-length': '5023' } });
    pool().intercept({ path: '/apps/v3/regions/r3/', method: 'GET' }).reply(500, 'y'.repeat(5000));
    pool()
      .intercept({ path: '/apps/v3/regions/r4/', method: 'GET' })
      .reply(200, { uuid: 'r4', name: 'é'.repeat(100) }, { headers: JSON_HEADERS });
    const client = makeClient({ maxResponseBytes: 1000, retry: { maxRetries: 0 } });
    for (const id of ['r1', 'r2', 'r3']) {
      const err = await client.regions.get(id).catch((e: unknown) => e);
      expect(err, id).toBeInstanceOf(ResponseFormatError);
      expect((err as Error).message).toContain('larger than the 1000-byte limit');
    }
    expect((await client.regions.get('r4')).name).toBe('é'.repeat(100));
  });
});

describe('error mapping', () => {
  async function failWith(
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    pool()
      .intercept({ path: '/apps/v3/backups/', method: 'POST' })
      .reply(status, body as object, { headers: { ...JSON_HEADERS, ...headers } });
    return makeClient()
      .backups.create({ environment: ENV_TEST, services: ['s'] })
      .catch((e: unknown) => e);
  }

  it('400 with field errors', async () => {
    const err = await failWith(400, { name: ['This field is required.'], services: ['Bad.', 'Worse.'] });
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toBeInstanceOf(BadRequestError);
    const v = err as ValidationError;
    expect(v.status).toBe(400);
    expect(v.fieldErrors).toEqual({ name: ['This field is required.'], services: ['Bad.', 'Worse.'] });
    expect(v.message).toContain('name: This field is required.');
  });

  it('400 with non_field_errors', async () => {
    const err = (await failWith(400, {
      non_field_errors: ['Can not add another Environment.'],
    })) as ValidationError;
    expect(err.nonFieldErrors).toEqual(['Can not add another Environment.']);
    expect(err.message).toContain('Can not add another Environment.');
  });

  it('400 with nested errors flattens them into dotted field names', async () => {
    const err = (await failWith(400, {
      service_instance_restores: [{}, { service_instance_backup: ['This field is required.'] }],
    })) as ValidationError;
    expect(err.fieldErrors).toEqual({
      'service_instance_restores.1.service_instance_backup': ['This field is required.'],
    });
    expect(err.message).toContain(
      'service_instance_restores.1.service_instance_backup: This field is required.',
    );
  });

  it('401 explains how to get a token', async () => {
    const err = (await failWith(401, { detail: 'Invalid token.' })) as AuthenticationError;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toContain('Invalid token.');
    // the token page of the configured zone: the base URL is https://api.example.test
    expect(err.message).toContain('https://control.example.test/account/access-tokens/');
    expect(err.tokenPage).toBe('https://control.example.test/account/access-tokens/');
    expect(err.message).toContain('DIVIO_API_TOKEN');
  });

  it('403, 404, 409, 429, 500', async () => {
    const e403 = await failWith(403, { detail: 'You do not have permission to perform this action.' });
    // the token check that tells a refused token from missing access is not answered here: permission error
    expect(e403).toBeInstanceOf(PermissionDeniedError);
    expect((e403 as Error).message).toContain('may not access');
    const e404 = await failWith(404, { detail: 'Not found.' });
    expect(e404).toBeInstanceOf(NotFoundError);
    expect((e404 as Error).message).toContain('Not found.');
    expect(await failWith(409, { detail: 'Busy.' })).toBeInstanceOf(ConflictError);
    const e429 = (await failWith(429, { detail: 'Slow down.' }, { 'retry-after': '7' })) as RateLimitError;
    expect(e429).toBeInstanceOf(RateLimitError);
    expect(e429.retryAfterMs).toBe(7000);
    const e500 = await failWith(500, 'Internal Server Error');
    expect(e500).toBeInstanceOf(ServerError);
    expect(e500).toBeInstanceOf(ApiError);
    expect((e500 as ApiError).status).toBe(500);
  });

  it('keeps only a short sanitized excerpt of a non-JSON body', async () => {
    const huge = `<html>\u001b[31m${'x'.repeat(5000)}</html>`;
    const err = (await failWith(502, huge)) as ServerError;
    expect(typeof err.body).toBe('string');
    expect((err.body as string).length).toBeLessThan(260);
    expect(err.body as string).not.toContain('\u001b');
    expect(err.message.length).toBeLessThan(600);
  });
});

describe('error classes', () => {
  it('can be constructed directly as ApiError(status, body, message)', () => {
    const err = new ValidationError(400, { name: ['Required.'], non_field_errors: ['Nope.'] }, 'bad');
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('validation_error');
    expect(err.fieldErrors).toEqual({ name: ['Required.'] });
    expect(err.nonFieldErrors).toEqual(['Nope.']);
    expect(new NotFoundError(404, null, 'gone').code).toBe('not_found');
    expect(new ApiError(503, null, 'x').code).toBe('server_error');
  });
});

describe('retries', () => {
  it('retries a GET on 408', async () => {
    pool().intercept({ path: '/apps/v3/domains/d/', method: 'GET' }).reply(408, {});
    pool()
      .intercept({ path: '/apps/v3/domains/d/', method: 'GET' })
      .reply(200, { uuid: 'd', name: 'example.com' }, { headers: JSON_HEADERS });
    expect((await makeClient().domains.get('d')).name).toBe('example.com');
    expect(sleeps).toHaveLength(1);
  });

  it('retries a GET on 503 and then succeeds', async () => {
    pool().intercept({ path: '/apps/v3/regions/', method: 'GET' }).reply(503, { detail: 'down' }).times(2);
    pool()
      .intercept({ path: '/apps/v3/regions/', method: 'GET' })
      .reply(
        200,
        { count: 1, next: null, previous: null, results: [{ uuid: 'r' }] },
        { headers: JSON_HEADERS },
      );
    const page = await makeClient().regions.list();
    expect(page.results).toHaveLength(1);
    expect(sleeps).toHaveLength(2);
  });

  it('retries a GET on a connection error', async () => {
    pool().intercept({ path: '/iam/v3/me/', method: 'GET' }).replyWithError(new Error('socket hang up'));
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(200, { uuid: 'u' }, { headers: JSON_HEADERS });
    const me = await makeClient().users.me();
    expect(me.uuid).toBe('u');
    expect(sleeps).toHaveLength(1);
  });

  it('gives up after two retries', async () => {
    pool().intercept({ path: '/iam/v3/me/', method: 'GET' }).reply(500, {}).times(3);
    await expect(makeClient().users.me()).rejects.toBeInstanceOf(ServerError);
    expect(sleeps).toHaveLength(2);
  });

  it('maps a connection failure to ConnectionError when retries are exhausted', async () => {
    pool().intercept({ path: '/iam/v3/me/', method: 'GET' }).replyWithError(new Error('boom')).times(3);
    const err = await makeClient()
      .users.me()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).mayHaveReachedServer).toBe(true);
  });

  it('honours Retry-After in seconds', async () => {
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(429, {}, { headers: { 'retry-after': '3' } });
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(200, { uuid: 'u' }, { headers: JSON_HEADERS });
    await makeClient().users.me();
    expect(sleeps).toEqual([3000]);
  });

  it('honours Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('accepts only integer seconds or an HTTP-date as Retry-After; junk means no Retry-After', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Thursday, 01-Jan-26 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Thu Jan  1 00:00:09 2026', now)).toBe(9000);
    for (const junk of ['-1', '1 2', '1.5', '+3', '2026-01-01T00:00:05Z', 'Thu, 01 Jan 2026']) {
      expect(parseRetryAfter(junk, now), junk).toBeUndefined();
    }
    expect(parseRetryAfter('Fri, 30 Feb 2026 00:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('Thu, 01 Jan 2026 25:00:00 GMT', now)).toBeUndefined();
  });

  it('falls back to normal backoff when Retry-After is malformed', async () => {
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(429, {}, { headers: { 'retry-after': '-1' } });
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(200, { uuid: 'u' }, { headers: JSON_HEADERS });
    await makeClient({ retry: { baseDelayMs: 100, maxDelayMs: 100 } }).users.me();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
  });

  it('waits out the whole Retry-After on its clock before asking again', async () => {
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(503, {}, { headers: { 'retry-after': '1' } });
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(200, { uuid: 'u' }, { headers: JSON_HEADERS });
    const manual = new FakeClock({ auto: false });
    const client = new DivioClient({ token: TOKEN, baseUrl: BASE, dispatcher: agent, clock: manual });
    let settled = false;
    const me = client.users.me().finally(() => {
      settled = true;
    });
    await manual.sleeping();
    expect(manual.slept).toEqual([1000]);
    // One millisecond short of the second: still waiting, and the second request is not sent yet.
    await manual.advance(999);
    await turn();
    expect(settled).toBe(false);
    expect(manual.pending).toBe(1);
    await manual.advance(1);
    expect((await me).uuid).toBe('u');
  });

  it('returns the error at once when Retry-After exceeds the wait cap', async () => {
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(429, {}, { headers: { 'retry-after': '3600' } });
    const err = await makeClient({ retry: { maxRetryWaitMs: 10_000 } })
      .users.me()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfterMs).toBe(3_600_000);
    expect(sleeps).toEqual([]);
  });

  it('never retries a POST (exactly one call)', async () => {
    let calls = 0;
    pool()
      .intercept({ path: '/apps/v3/deployments/', method: 'POST' })
      .reply(() => {
        calls++;
        return { statusCode: 503, data: { detail: 'down' } };
      })
      .persist();
    await expect(makeClient().deployments.create({ environment: ENV_TEST })).rejects.toBeInstanceOf(
      ServerError,
    );
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('never retries a PATCH or DELETE after a connection error', async () => {
    pool()
      .intercept({ path: '/apps/v3/environment-variables/v/', method: 'PATCH' })
      .replyWithError(new Error('x'));
    pool()
      .intercept({ path: '/apps/v3/environment-variables/v/', method: 'DELETE' })
      .replyWithError(new Error('x'));
    const client = makeClient();
    await expect(client.environmentVariables.update('v', { value: '1' })).rejects.toBeInstanceOf(
      ConnectionError,
    );
    await expect(client.environmentVariables.delete('v')).rejects.toBeInstanceOf(ConnectionError);
    expect(sleeps).toEqual([]);
  });
});

describe('cancellation and timeouts', () => {
  it('does not send anything when the signal is already aborted', async () => {
    const ctl = new AbortController();
    ctl.abort(new Error('stop'));
    await expect(makeClient().users.me({ signal: ctl.signal })).rejects.toThrow('stop');
  });

  it('aborts the wait between retries', async () => {
    const ctl = new AbortController();
    let calls = 0;
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'GET' })
      .reply(() => {
        calls++;
        queueMicrotask(() => ctl.abort(new Error('cancelled by user')));
        return { statusCode: 503, data: {} };
      })
      .persist();
    // A one-minute backoff: the test only finishes quickly because the abort cuts the wait short.
    const client = new DivioClient({
      token: TOKEN,
      baseUrl: BASE,
      dispatcher: agent,
      retry: { baseDelayMs: 60_000, maxDelayMs: 60_000, maxRetryWaitMs: 600_000 },
    });
    await expect(client.users.me({ signal: ctl.signal })).rejects.toThrow('cancelled by user');
    expect(calls).toBe(1);
  });

  it('aborts an in-flight request', async () => {
    const ctl = new AbortController();
    pool().intercept({ path: '/iam/v3/me/', method: 'GET' }).reply(200, { uuid: 'u' }).delay(60_000);
    const promise = makeClient().users.me({ signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('user gave up')), 5);
    await expect(promise).rejects.toThrow('user gave up');
  });

  it('turns a slow response into TimeoutError', async () => {
    pool().intercept({ path: '/apps/v3/backups/', method: 'POST' }).reply(200, { uuid: 'b' }).delay(60_000);
    const err = await makeClient({ timeoutMs: 10 })
      .backups.create({ environment: ENV_TEST, services: [] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).mayHaveReachedServer).toBe(true);
  });
});

describe('pagination', () => {
  const app = (n: number) => ({ uuid: `a${n}`, slug: `app-${n}` });

  it('page/page_size: follows next across pages', async () => {
    pool()
      .intercept({ path: '/apps/v3/applications/?page_size=2', method: 'GET' })
      .reply(
        200,
        {
          count: 3,
          next: `${BASE}/apps/v3/applications/?page=2&page_size=2`,
          previous: null,
          results: [app(1), app(2)],
        },
        { headers: JSON_HEADERS },
      );
    pool()
      .intercept({ path: '/apps/v3/applications/?page=2&page_size=2', method: 'GET' })
      .reply(
        200,
        { count: 3, next: null, previous: `${BASE}/apps/v3/applications/?page_size=2`, results: [app(3)] },
        { headers: JSON_HEADERS },
      );
    const slugs: string[] = [];
    for await (const a of makeClient().applications.iterate({ page_size: 2 })) slugs.push(a.slug);
    expect(slugs).toEqual(['app-1', 'app-2', 'app-3']);
  });

  it('single pages expose count, next and previous; getPageByUrl follows a cursor URL', async () => {
    const next = `${BASE}/apps/v3/deployments/?page=2`;
    pool()
      .intercept({ path: '/apps/v3/deployments/', method: 'GET' })
      .reply(200, { count: 2, next, previous: null, results: [{ uuid: 'd1' }] }, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/deployments/?page=2', method: 'GET' })
      .reply(
        200,
        { count: 2, next: null, previous: null, results: [{ uuid: 'd2' }] },
        { headers: JSON_HEADERS },
      );
    const client = makeClient();
    const first = await client.deployments.list();
    expect(first).toMatchObject({ count: 2, next, previous: null });
    const second = await client.getPageByUrl(first.next!, z.looseObject({ uuid: z.string() }));
    expect(second.results[0]?.uuid).toBe('d2');
  });

  it('limit/offset (cronjobs): follows next', async () => {
    pool()
      .intercept({ path: `/apps/v3/cronjobs/?environment=${ENV_TEST}&limit=1`, method: 'GET' })
      .reply(
        200,
        {
          count: 2,
          next: `${BASE}/apps/v3/cronjobs/?environment=${ENV_TEST}&limit=1&offset=1`,
          previous: null,
          results: [{ uuid: 'c1', command: 'a' }],
        },
        { headers: JSON_HEADERS },
      );
    pool()
      .intercept({ path: `/apps/v3/cronjobs/?environment=${ENV_TEST}&limit=1&offset=1`, method: 'GET' })
      .reply(
        200,
        { count: 2, next: null, previous: null, results: [{ uuid: 'c2' }] },
        { headers: JSON_HEADERS },
      );
    const ids: string[] = [];
    for await (const c of makeClient().cronjobs.iterate({ environment: ENV_TEST, limit: 1 }))
      ids.push(c.uuid);
    expect(ids).toEqual(['c1', 'c2']);
  });

  it('environment logs: cursor pages without count, following next and previous URLs', async () => {
    const next = `${BASE}/apps/v3/environments/${ENV_TEST}/logs/?search_after=opaque%3D%3D`;
    const previous = `${BASE}/apps/v3/environments/${ENV_TEST}/logs/?search_before=zzz`;
    pool()
      .intercept({ path: `/apps/v3/environments/${ENV_TEST}/logs/?service=web&limit=2`, method: 'GET' })
      .reply(
        200,
        { next, previous, results: [{ timestamp: '2026-01-01T00:00:00.1Z', service: 'web', message: 'hi' }] },
        { headers: JSON_HEADERS },
      );
    pool()
      .intercept({ path: `/apps/v3/environments/${ENV_TEST}/logs/?search_after=opaque%3D%3D`, method: 'GET' })
      .reply(200, { next: null, previous: null, results: [] }, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/environments/${ENV_TEST}/logs/?search_before=zzz`, method: 'GET' })
      .reply(200, { previous: null, results: [{ message: 'older' }] }, { headers: JSON_HEADERS });
    const client = makeClient();
    const first = await client.environments.logs(ENV_TEST, { service: 'web', limit: 2 });
    expect(first.results[0]?.message).toBe('hi');
    expect('count' in first).toBe(false);
    const after = await client.environments.logsPage(first.next!);
    expect(after.results).toEqual([]);
    expect(after.next).toBeNull();
    const before = await client.environments.logsPage(first.previous!);
    expect(before.results[0]?.message).toBe('older');
    expect(before.next).toBeNull();
  });

  it('treats a bare array as one complete page', async () => {
    pool()
      .intercept({ path: '/apps/v3/regions/', method: 'GET' })
      .reply(200, [{ uuid: 'r1' }, { uuid: 'r2' }], { headers: JSON_HEADERS });
    const page = await makeClient().regions.list();
    expect(page).toMatchObject({ count: 2, next: null, previous: null });
    expect(page.results.map((r) => r.uuid)).toEqual(['r1', 'r2']);
  });

  it('refuses a cross-origin next link and sends nothing to the other host', async () => {
    pool()
      .intercept({ path: '/apps/v3/applications/', method: 'GET' })
      .reply(
        200,
        {
          count: 2,
          next: 'https://evil.example/apps/v3/applications/?page=2',
          previous: null,
          results: [app(1)],
        },
        { headers: JSON_HEADERS },
      );
    const client = makeClient();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const a of client.applications.iterate()) seen.push(a.slug);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['app-1']);
    expect(err).toBeInstanceOf(CrossOriginError);
    await expect(client.getPageByUrl('http://api.example.test/apps/v3/applications/')).rejects.toBeInstanceOf(
      CrossOriginError,
    );
    await expect(client.getPageByUrl('https://api.example.test:444/x/')).rejects.toBeInstanceOf(
      CrossOriginError,
    );
    await expect(client.environments.logsPage('https://evil.example/logs/')).rejects.toBeInstanceOf(
      CrossOriginError,
    );
    // Net connect is disabled and evil.example has no interceptors: had a request been attempted, the error
    // would have been a ConnectionError rather than CrossOriginError.
  });

  it('behind a proxy path prefix, follows links only under that prefix', async () => {
    const proxy = 'https://api.example.test/divio';
    pool()
      .intercept({ path: '/divio/apps/v3/applications/?page=2', method: 'GET' })
      .reply(200, { count: 1, next: null, previous: null, results: [app(1)] }, { headers: JSON_HEADERS });
    const client = makeClient({ baseUrl: proxy });
    expect(client.checkedUrl(`${proxy}/apps/v3/applications/?page=2`).pathname).toBe(
      '/divio/apps/v3/applications/',
    );
    expect((await client.getPageByUrl(`${proxy}/apps/v3/applications/?page=2`)).results).toHaveLength(1);
    for (const outside of [
      `${BASE}/apps/v3/applications/`,
      `${BASE}/divio-other/apps/v3/applications/`,
      `${BASE}/divio/../admin/`,
      '/other/x/',
    ]) {
      expect(() => client.checkedUrl(outside), outside).toThrow(CrossOriginError);
      await expect(client.getPageByUrl(outside)).rejects.toBeInstanceOf(CrossOriginError);
    }
  });
});

describe('token redaction', () => {
  it('never puts the token in any error message, property, stack or cause', async () => {
    const echo = { detail: `Invalid token ${TOKEN}`, [TOKEN]: [`bad ${TOKEN}`], non_field_errors: [TOKEN] };
    const statuses = [400, 401, 403, 404, 409, 429, 500, 418];
    for (const status of statuses) {
      pool()
        .intercept({ path: '/iam/v3/me/', method: 'POST' })
        .reply(status, echo, { headers: JSON_HEADERS });
    }
    pool().intercept({ path: '/iam/v3/me/', method: 'POST' }).reply(502, `plain text ${TOKEN}`);
    pool()
      .intercept({ path: '/iam/v3/me/', method: 'POST' })
      .replyWithError(new Error(`socket ${TOKEN}`));
    pool().intercept({ path: '/iam/v3/me/', method: 'POST' }).reply(200, `not json ${TOKEN}`);
    pool().intercept({ path: '/iam/v3/me/', method: 'POST' }).reply(200, { uuid: 1, note: TOKEN });
    pool().intercept({ path: '/iam/v3/me/', method: 'POST' }).reply(200, {}).delay(60_000);
    const client = makeClient({ timeoutMs: 20 });
    const schema = z.object({ uuid: z.string() });
    const errors: unknown[] = [];
    for (let i = 0; i < statuses.length + 5; i++) {
      errors.push(
        await client.request('POST', '/iam/v3/me/', { body: { t: 1 }, schema }).catch((e: unknown) => e),
      );
    }
    errors.push(await client.getPageByUrl(`https://evil.example/?t=${TOKEN}`).catch((e: unknown) => e));
    errors.push(
      await new DivioClient({ baseUrl: BASE, dispatcher: agent }).users.me().catch((e: unknown) => e),
    );
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, { count: 0, next: null, previous: null, results: [] }, { headers: JSON_HEADERS });
    errors.push(
      await client.resolveEnvironment({ uuid: APP, slug: 'shop' }, `x${TOKEN}`).catch((e: unknown) => e),
    );

    const kinds = new Set<string>();
    for (const err of errors) {
      expect(err).toBeInstanceOf(DivioError);
      const e = err as Error;
      kinds.add(e.constructor.name);
      const dump = [
        e.message,
        e.stack ?? '',
        JSON.stringify(e),
        JSON.stringify(Object.getOwnPropertyDescriptors(e), (_k, v) =>
          v instanceof Error ? String(v.stack) : v,
        ),
        e.cause instanceof Error ? `${e.cause.message} ${e.cause.stack}` : String(e.cause ?? ''),
      ].join('\n');
      expect(dump).not.toContain(TOKEN);
    }
    for (const kind of [
      'ValidationError',
      'AuthenticationError',
      'PermissionDeniedError',
      'NotFoundError',
      'ConflictError',
      'RateLimitError',
      'ServerError',
      'ApiError',
      'ConnectionError',
      'ResponseFormatError',
      'TimeoutError',
      'CrossOriginError',
      'ConfigurationError',
      'ResolutionError',
    ]) {
      expect(kinds).toContain(kind);
    }
  });
});

describe('resolution', () => {
  const apps = [
    { uuid: APP, slug: 'shop', name: 'Shop' },
    { uuid: BLOG, slug: 'blog', name: 'Blog' },
  ];
  const envs = [
    { uuid: ENV_TEST, slug: 'test', application: APP },
    { uuid: ENV_LIVE, slug: 'live', application: APP },
  ];
  const page = (results: unknown[]) => ({ count: results.length, next: null, previous: null, results });

  it('resolves a slug with one request (cached) and an ID-shaped reference by slug and ID at once', async () => {
    pool()
      .intercept({ path: '/apps/v3/applications/?slug=shop', method: 'GET' })
      .reply(200, page([apps[0]]), { headers: JSON_HEADERS });
    // An ID-shaped reference could be a slug too: both lookups go out, and the one that hits wins.
    pool()
      .intercept({ path: `/apps/v3/applications/?slug=${BLOG}`, method: 'GET' })
      .reply(200, page([]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/applications/${BLOG}/`, method: 'GET' })
      .reply(200, apps[1], { headers: JSON_HEADERS });
    const client = makeClient();
    expect((await client.resolveApplication('shop')).uuid).toBe(APP);
    expect((await client.resolveApplication('shop')).uuid).toBe(APP); // cached: no second interceptor
    const blog = await client.resolveApplication(BLOG);
    expect(blog.slug).toBe('blog');
    expect(blog.uuid).toBe(BLOG);
    agent.assertNoPendingInterceptors();
  });

  it('resolves an ID-shaped slug by slug when no object has that ID', async () => {
    const slug = 'efrlmsafhjeb5htwozkc2sgbd4';
    pool()
      .intercept({ path: `/apps/v3/applications/?slug=${slug}`, method: 'GET' })
      .reply(200, page([{ uuid: APP, slug, name: 'Odd' }]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/applications/${slug}/`, method: 'GET' })
      .reply(404, { detail: 'Not found.' }, { headers: JSON_HEADERS });
    expect((await makeClient().resolveApplication(slug)).uuid).toBe(APP);
    agent.assertNoPendingInterceptors();
  });

  it('refuses a reference that is one application slug and another application ID, naming both', async () => {
    // A third application's slug is spelled like blog's ID.
    const odd = { uuid: 'yvn5jrwaenga7kzevilxs66hd4', slug: BLOG, name: 'Odd' };
    pool()
      .intercept({ path: `/apps/v3/applications/?slug=${BLOG}`, method: 'GET' })
      .reply(200, page([odd]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/applications/${BLOG}/`, method: 'GET' })
      .reply(200, apps[1], { headers: JSON_HEADERS });
    const err = (await makeClient()
      .resolveApplication(BLOG)
      .catch((e: unknown) => e)) as ResolutionError;
    expect(err).toBeInstanceOf(ResolutionError);
    expect(err.message).toContain('ambiguous');
    expect(err.message).toContain(`Pass ${odd.uuid} for the first or 'blog' for the second`);
    expect(err.choices).toEqual([odd.uuid, 'blog']);
  });

  it('never changes the case of an ID it sends or returns', async () => {
    const mixed = 'AbCdEfGhIjKlMnOpQrStUvWxYz';
    pool()
      .intercept({ path: `/apps/v3/applications/?slug=${mixed}`, method: 'GET' })
      .reply(200, page([]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/applications/${mixed}/`, method: 'GET' })
      .reply(200, { uuid: mixed, slug: 'mixed' }, { headers: JSON_HEADERS });
    expect((await makeClient().resolveApplication(mixed)).uuid).toBe(mixed);
    agent.assertNoPendingInterceptors();
  });

  it('lists valid choices when an application is not found', async () => {
    pool()
      .intercept({ path: '/apps/v3/applications/?slug=shpo', method: 'GET' })
      .reply(200, page([]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/applications/?page_size=100', method: 'GET' })
      .reply(200, page(apps), { headers: JSON_HEADERS });
    const err = (await makeClient()
      .resolveApplication('shpo')
      .catch((e: unknown) => e)) as ResolutionError;
    expect(err).toBeInstanceOf(ResolutionError);
    expect(err.kind).toBe('application');
    expect(err.choices).toEqual(['shop', 'blog']);
    expect(err.message).toBe(
      "Application 'shpo' was not found. Valid applications: shop, blog. Call list_applications to see them all.",
    );
  });

  it('caps the list of choices', async () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ uuid: `u${i}`, slug: `app${i}` }));
    pool()
      .intercept({ path: '/apps/v3/applications/?slug=nope', method: 'GET' })
      .reply(200, page([]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/applications/?page_size=100', method: 'GET' })
      .reply(200, { ...page(many), count: 130 }, { headers: JSON_HEADERS });
    const err = (await makeClient()
      .resolveApplication('nope')
      .catch((e: unknown) => e)) as ResolutionError;
    expect(err.message).toContain('app24, and 105 more.');
    expect(err.choices).toHaveLength(30);
  });

  it('resolves an environment by slug or ID and lists choices otherwise', async () => {
    pool()
      .intercept({ path: '/apps/v3/applications/?slug=shop', method: 'GET' })
      .reply(200, page([apps[0]]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, page(envs), { headers: JSON_HEADERS });
    const client = makeClient();
    expect((await client.resolveEnvironment('shop', 'live')).uuid).toBe(ENV_LIVE);
    expect((await client.resolveEnvironment(apps[0]!, ENV_TEST)).slug).toBe('test');
    const err = (await client.resolveEnvironment('shop', 'prod').catch((e: unknown) => e)) as ResolutionError;
    expect(err).toBeInstanceOf(ResolutionError);
    expect(err.kind).toBe('environment');
    expect(err.choices).toEqual(['test', 'live']);
    expect(err.message).toContain('Valid environments: test, live.');
  });

  it('refuses an environment reference that is one slug and another ID, saying what to pass for each', async () => {
    const odd = { uuid: 'yvn5jrwaenga7kzevilxs66hd4', slug: ENV_LIVE, application: APP };
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, page([...envs, odd]), { headers: JSON_HEADERS });
    const client = makeClient();
    const err = (await client
      .resolveEnvironment(apps[0]!, ENV_LIVE)
      .catch((e: unknown) => e)) as ResolutionError;
    expect(err).toBeInstanceOf(ResolutionError);
    expect(err.message).toContain('ambiguous');
    expect(err.message).toContain(`pass ${odd.uuid} for the environment with that slug`);
    expect(err.message).toContain("'live' for the one with that ID");
    expect((await client.resolveEnvironment(apps[0]!, odd.uuid)).slug).toBe(ENV_LIVE);
  });

  it('invalidateCache forces a fresh lookup', async () => {
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, page(envs), { headers: JSON_HEADERS })
      .times(2);
    const client = makeClient();
    expect(await client.listEnvironmentsCached(APP)).toHaveLength(2);
    expect(await client.listEnvironmentsCached(APP)).toHaveLength(2);
    client.invalidateCache();
    expect(await client.listEnvironmentsCached(APP)).toHaveLength(2);
  });

  it('shares one request between concurrent lookups and evicts failures', async () => {
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(404, { detail: 'Not found.' });
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, page(envs), { headers: JSON_HEADERS });
    const client = makeClient();
    await expect(client.listEnvironmentsCached(APP)).rejects.toBeInstanceOf(NotFoundError);
    const [a, b] = await Promise.all([
      client.listEnvironmentsCached(APP),
      client.listEnvironmentsCached(APP),
    ]);
    expect(a).toBe(b);
    expect(a).toHaveLength(2);
  });

  it('a shared lookup is not cancelled by one caller: each caller only answers to its own signal', async () => {
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, page(envs), { headers: JSON_HEADERS })
      .delay(30);
    const client = makeClient();
    const first = new AbortController();
    const a = client.listEnvironmentsCached(APP, first.signal);
    const b = client.listEnvironmentsCached(APP, new AbortController().signal);
    first.abort(new Error('caller A gave up'));
    await expect(a).rejects.toThrow('caller A gave up');
    expect(await b).toHaveLength(2);

    client.invalidateCache();
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, page(envs), { headers: JSON_HEADERS })
      .delay(30);
    const second = new AbortController();
    const c = client.listEnvironmentsCached(APP);
    const d = client.listEnvironmentsCached(APP, second.signal);
    second.abort(new Error('caller D gave up'));
    await expect(d).rejects.toThrow('caller D gave up');
    expect(await c).toHaveLength(2);
  });

  it('a cancelled application listing does not fail a concurrent resolution', async () => {
    pool()
      .intercept({ path: '/apps/v3/applications/?slug=nope', method: 'GET' })
      .reply(200, page([]), { headers: JSON_HEADERS })
      .times(2);
    pool()
      .intercept({ path: '/apps/v3/applications/?page_size=100', method: 'GET' })
      .reply(200, page(apps), { headers: JSON_HEADERS })
      .delay(30);
    const client = makeClient();
    const first = new AbortController();
    const a = client.resolveApplication('nope', first.signal);
    const b = client.resolveApplication('nope', new AbortController().signal);
    await new Promise((r) => setTimeout(r, 10));
    first.abort(new Error('caller A gave up'));
    await expect(a).rejects.toThrow('caller A gave up');
    await expect(b).rejects.toBeInstanceOf(ResolutionError);
  });

  it('stops following a self-referencing next link in the application listing', async () => {
    const self = `${BASE}/apps/v3/applications/?page=2&page_size=100`;
    pool()
      .intercept({ path: '/apps/v3/applications/?slug=nope', method: 'GET' })
      .reply(200, page([]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/applications/?page_size=100', method: 'GET' })
      .reply(200, { count: 2, next: self, previous: null, results: apps }, { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/applications/?page=2&page_size=100', method: 'GET' })
      .reply(200, { count: 2, next: self, previous: null, results: [] }, { headers: JSON_HEADERS });
    const err = (await makeClient()
      .resolveApplication('nope')
      .catch((e: unknown) => e)) as ResolutionError;
    expect(err.choices).toEqual(['shop', 'blog']);
  });

  it('caps the application listing at a fixed number of pages', async () => {
    pool()
      .intercept({ path: '/apps/v3/applications/?slug=nope', method: 'GET' })
      .reply(200, page([]), { headers: JSON_HEADERS });
    pool()
      .intercept({ path: '/apps/v3/applications/?page_size=100', method: 'GET' })
      .reply(
        200,
        { count: 2, next: `${BASE}/apps/v3/applications/?page=1`, previous: null, results: apps },
        {
          headers: JSON_HEADERS,
        },
      );
    let served = 0;
    pool()
      .intercept({ path: (p) => p.startsWith('/apps/v3/applications/?page='), method: 'GET' })
      .reply(200, (opts) => {
        served++;
        const n = Number(new URL(opts.path, BASE).searchParams.get('page')) + 1;
        return { count: 2, next: `${BASE}/apps/v3/applications/?page=${n}`, previous: null, results: [] };
      })
      .persist();
    const err = (await makeClient()
      .resolveApplication('nope')
      .catch((e: unknown) => e)) as ResolutionError;
    expect(err.choices).toEqual(['shop', 'blog']);
    expect(served).toBe(19);
  });

  it('expires cached entries after the TTL', async () => {
    pool()
      .intercept({ path: `/apps/v3/environments/?application=${APP}&page_size=100`, method: 'GET' })
      .reply(200, page(envs), { headers: JSON_HEADERS })
      .times(2);
    const client = makeClient({ resolveTtlMs: 0 });
    await client.listEnvironmentsCached(APP);
    await client.listEnvironmentsCached(APP);
  });
});
