import { MockAgent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DivioClient, NotFoundError, OperationUnavailableError } from '../src/client/index.js';
import { logHistogram } from '../src/domain/histogram.js';
import { atLevel } from '../src/domain/levels.js';
import { uuidFromName } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

// Operations whose path no public source shows: a 404 or 405 there says "not available at <path>", through
// the client and through a tool, and the rest of the server keeps working.

const BASE = 'https://api.example.test';
const TOKEN = 'tok_SECRET_9f8e7d6c5b4a';
const ENV = 'fwwk5i3acnao5mfq6263ennkfe';
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('client: inferred paths (MockAgent)', () => {
  let agent: MockAgent;
  let client: DivioClient;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    client = new DivioClient({ token: TOKEN, baseUrl: BASE, dispatcher: agent, retry: { maxRetries: 0 } });
  });
  afterEach(async () => {
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
  const occurrencePath = `/apps/v3/environments/${ENV}/logs/occurrence/`;

  for (const status of [404, 405]) {
    it(`a ${status} on GetEnvironmentLogsOccurrence is OperationUnavailableError naming the path`, async () => {
      agent
        .get(BASE)
        .intercept({ path: (p) => p.startsWith(occurrencePath), method: 'GET' })
        .reply(status, { detail: 'Not found.' }, { headers: JSON_HEADERS });
      const err = await client.environments
        .logsOccurrence(ENV, { number_of_buckets: 5 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationUnavailableError);
      expect(err).not.toBeInstanceOf(NotFoundError);
      const e = err as OperationUnavailableError;
      expect(e.status).toBe(status);
      expect(e.code).toBe('operation_unavailable');
      expect(e.operation).toBe('GetEnvironmentLogsOccurrence');
      expect(e.message).toBe(
        `This operation (GetEnvironmentLogsOccurrence) is not available at GET /apps/v3/environments/{uuid}/logs/occurrence/ on this Divio API (HTTP ${status}); the rest of the server is unaffected.`,
      );
      expect(e.message).not.toContain(TOKEN);
    });
  }

  it('a 404 on a path Divio’s own clients use stays a NotFoundError', async () => {
    agent
      .get(BASE)
      .intercept({ path: `/apps/v3/environments/${ENV}/`, method: 'GET' })
      .reply(404, { detail: 'Not found.' }, { headers: JSON_HEADERS });
    await expect(client.environments.get(ENV)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('sends the reference’s parameters and reads either bucket spelling', async () => {
    const seen: string[] = [];
    agent
      .get(BASE)
      .intercept({
        path: (p) => {
          seen.push(p);
          return p.startsWith(occurrencePath);
        },
        method: 'GET',
      })
      .reply(
        200,
        {
          occurrences: [
            { key_as_string: '2026-12-02T08:00:00Z', doc_count: 0 },
            { key_as_string: '2026-12-02T08:30:00Z', doc_count: 4 },
            { key_as_string: '2026-12-02T09:00:00Z', doc_count: 9 },
            { key_as_string: '2026-12-02T09:30:00Z', doc_count: 2 },
          ],
        },
        { headers: JSON_HEADERS },
      );
    const h = await logHistogram(client, ENV, {
      from: new Date('2026-12-02T08:00:00Z'),
      to: new Date('2026-12-02T10:00:00Z'),
      buckets: 4,
      search: 'error',
      service: 'web',
    });
    const url = new URL(seen.find((p) => p.startsWith(occurrencePath)) ?? '', BASE);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      number_of_buckets: '4',
      from_ts: '2026-12-02T08:00:00.000Z',
      to_ts: '2026-12-02T10:00:00.000Z',
      search_query: 'error',
      service: 'web',
    });
    expect(h.total).toBe(15);
    expect(h.bucket_seconds).toBe(1800);
    expect(h.first_nonzero).toEqual({ from: '2026-12-02T08:30:00.000Z', count: 4 });
    expect(h.peak).toEqual({ from: '2026-12-02T09:00:00.000Z', count: 9 });
    expect(h.current_run_from).toBe('2026-12-02T08:30:00.000Z');
  });
});

describe('sandbox: GetEnvironmentLogsOccurrence', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  const envId = uuidFromName('environment:shop/live');
  const get = (query: string) =>
    fetch(`${h.sandbox.url}/apps/v3/environments/${envId}/logs/occurrence/?${query}`, {
      headers: { Authorization: `Token ${h.sandbox.token}` },
    });

  it('validates its parameters with DRF’s messages', async () => {
    for (const [query, field, message] of [
      ['number_of_buckets=0', 'number_of_buckets', 'Ensure this value is greater than or equal to 1.'],
      ['number_of_buckets=31', 'number_of_buckets', 'Ensure this value is less than or equal to 30.'],
      ['number_of_buckets=x', 'number_of_buckets', 'A valid integer is required.'],
      ['search_query=ab', 'search_query', 'Ensure this field has at least 3 characters.'],
      ['service=', 'service', 'This field may not be blank.'],
    ] as const) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      expect(await res.json(), query).toEqual({ [field]: [message] });
    }
  });

  it('counts exactly the matching lines of each bucket, 30 buckets by default', async () => {
    const to = h.sandbox.state.now();
    const from = to - 3 * 3_600_000;
    const res = await get(
      `from_ts=${new Date(from).toISOString()}&to_ts=${new Date(to).toISOString()}&search_query=error&service=web`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { occurrences: { from_ts: string; to_ts: string; count: number }[] };
    expect(body.occurrences).toHaveLength(30);
    const logs = h.sandbox.state.logsFor(envId);
    const expected = logs.filter(
      (e) => e.ms >= from && e.ms <= to && e.service === 'web' && e.message.toLowerCase().includes('error'),
    ).length;
    expect(expected).toBeGreaterThan(0);
    expect(body.occurrences.reduce((s, o) => s + o.count, 0)).toBe(expected);
    expect(body.occurrences[0]?.from_ts).toBe(new Date(from).toISOString());
    expect(body.occurrences.at(-1)?.to_ts).toBe(new Date(to).toISOString());
  });
});

describe('tools: histogram and level on get_environment_logs; unavailable operation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('buckets answer when the errors started: the storm of the last 14 minutes on shop/live', async () => {
    const r = await h.call('get_environment_logs', {
      app: 'shop',
      environment: 'live',
      level: 'error',
      since: '2h',
      buckets: 8,
      limit: 20,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as {
      entries: { message: string }[];
      histogram: {
        buckets: { from: string; count: number }[];
        peak: { from: string } | null;
        current_run_from: string | null;
      };
    };
    const buckets = out.histogram.buckets;
    expect(buckets).toHaveLength(8);
    const last = buckets.at(-1);
    expect(last?.count).toBeGreaterThan(0);
    expect(out.histogram.peak?.from).toBe(last?.from);
    expect(out.histogram.current_run_from).toBe(last?.from);
    expect(textOf(r)).toContain(`ongoing since ${last?.from}`);
    expect(out.entries.length).toBeGreaterThan(0);
    for (const e of out.entries) expect(e.message.toLowerCase()).toContain('error');
    const sent = h.sandbox.requestLog.filter((e) => e.path.includes('/logs/'));
    expect(sent.every((e) => e.query['search_query'] === 'error')).toBe(true);
  });

  it('level with a search of its own sends the search and keeps only lines at the level', async () => {
    h.sandbox.clearRequestLog();
    const r = await h.call('get_environment_logs', {
      app: 'api-gateway',
      environment: 'staging',
      search: 'orders',
      level: 'warning',
      limit: 200,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const entries = (r.structuredContent as { entries: { message: string }[] }).entries;
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(atLevel(e.message, 'warning')).toBe(true);
      expect(e.message.toLowerCase()).toContain('orders');
    }
    const sent = h.sandbox.requestLog.find((e) => e.path.endsWith('/logs/'));
    expect(sent?.query['search_query']).toBe('orders');
  });

  for (const status of [404, 405] as const) {
    it(`a ${status} on the inferred occurrence path is explained, and other tools keep working`, async () => {
      h.sandbox.faults.set([{ pathContains: '/logs/occurrence/', error: { status } }]);
      try {
        const r = await h.call('get_environment_logs', { app: 'shop', environment: 'live', buckets: 5 });
        expect(r.isError).toBe(true);
        const text = textOf(r);
        expect(text).toContain(
          `This operation (GetEnvironmentLogsOccurrence) is not available at GET /apps/v3/environments/{uuid}/logs/occurrence/ on this Divio API (HTTP ${status}); the rest of the server is unaffected.`,
        );
        expect(text).not.toMatch(/try again/i);
        const plain = await h.call('get_environment_logs', { app: 'shop', environment: 'live', limit: 5 });
        expect(plain.isError, textOf(plain)).toBeFalsy();
      } finally {
        h.sandbox.faults.reset();
      }
    });
  }
});
