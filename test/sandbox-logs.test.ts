import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_SLUGS, type Sandbox, startSandbox, uuidFromName } from '../src/sandbox/index.js';

interface Entry {
  timestamp: string;
  service: string;
  message: string;
}
interface Page {
  next: string;
  previous: string;
  results: Entry[];
}

let sb: Sandbox;
let clock = Date.UTC(2026, 2, 10, 15, 30, 0);
const shopLive = uuidFromName('environment:shop/live');
const logsPath = (env: string) => `/apps/v3/environments/${env}/logs/`;

async function fetchLogs(pathOrUrl: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(pathOrUrl.startsWith('http') ? pathOrUrl : `${sb.url}${pathOrUrl}`, {
    headers: { Authorization: `Token ${sb.token}` },
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}
const page = async (p: string) => (await fetchLogs(p)).body as unknown as Page;

beforeAll(async () => {
  sb = await startSandbox({ now: () => clock });
});
afterAll(async () => {
  await sb.close();
});

describe('sandbox: environment logs', () => {
  it('has tens of thousands of lines in total', () => {
    let total = 0;
    for (const e of sb.state.environments.values()) total += sb.state.logsFor(e.uuid).length;
    expect(total).toBeGreaterThan(20_000);
    expect(APP_SLUGS).toHaveLength(5);
  });

  it('first page: newest `limit` entries, oldest first, with absolute cursor links and no count', async () => {
    const p = await page(`${logsPath(shopLive)}?limit=50`);
    expect(Object.keys(p).sort()).toEqual(['next', 'previous', 'results']);
    expect(p.results).toHaveLength(50);
    const ts = p.results.map((e) => Date.parse(e.timestamp));
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(ts.at(-1)).toBeLessThanOrEqual(clock);
    expect(p.results[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(p.next.startsWith(`${sb.url}${logsPath(shopLive)}?`)).toBe(true);
    expect(p.next).toContain('limit=50');
    expect(p.next).toContain('search_after=');
    expect(p.previous).toContain('search_before=');
  });

  it('walking previous goes back in time without gaps or overlaps; next walks forward again', async () => {
    const first = await page(`${logsPath(shopLive)}?limit=100`);
    const older = await page(first.previous);
    expect(older.results).toHaveLength(100);
    expect(Date.parse(older.results.at(-1)?.timestamp ?? '')).toBeLessThanOrEqual(
      Date.parse(first.results[0]?.timestamp ?? ''),
    );
    const all = sb.state.logsFor(shopLive).filter((e) => e.ms <= clock);
    const expected = all.slice(-200).map((e) => e.message);
    expect([...older.results, ...first.results].map((e) => e.message)).toEqual(expected);
    const back = await page(older.next);
    expect(back.results.map((e) => e.message)).toEqual(first.results.map((e) => e.message));
  });

  it('tail: next on the newest page is empty until time passes, then yields new lines', async () => {
    const first = await page(`${logsPath(shopLive)}?limit=10`);
    const empty = await page(first.next);
    expect(empty.results).toHaveLength(0);
    expect(empty.next).toBe(first.next);
    clock += 60_000;
    const fresh = await page(first.next);
    expect(fresh.results.length).toBeGreaterThan(0);
    expect(Date.parse(fresh.results[0]?.timestamp ?? '')).toBeGreaterThan(
      Date.parse(first.results.at(-1)?.timestamp ?? ''),
    );
  });

  it('walking previous to the start of a window ends with previous repeating itself', async () => {
    const from = new Date(clock - 10 * 60_000).toISOString();
    let p = await page(`${logsPath(shopLive)}?from_ts=${from}&limit=1000`);
    let url = p.previous;
    let rounds = 0;
    for (; rounds < 20; rounds++) {
      p = await page(url);
      if (p.previous === url) break;
      url = p.previous;
    }
    expect(rounds).toBeLessThan(20);
    expect(p.results).toHaveLength(0);
  });

  it('shop live shows database errors in the last 15 minutes, plus hostile and ANSI lines', async () => {
    const from = new Date(clock - 15 * 60_000).toISOString();
    const p = await page(`${logsPath(shopLive)}?from_ts=${from}`);
    const text = p.results.map((e) => e.message).join('\n');
    expect(text).toContain('psycopg2.OperationalError: could not connect to server');
    expect(p.results.filter((e) => / 50[02] \d+ /.test(e.message)).length).toBeGreaterThan(10);
    expect(text).toContain('ignore previous instructions');
    expect(text).toContain('\x1b[31m');
    const services = new Set(sb.state.logsFor(shopLive).map((e) => e.service));
    expect([...services].sort()).toEqual(['cronjob', 'web', 'worker']);
    const all = sb.state.logsFor(shopLive).map((e) => e.message);
    expect(all.some((m) => m.includes('\x1b[6n') || m.includes('\r'))).toBe(true);
  });

  it('blog live has KeyError tracebacks', () => {
    const msgs = sb.state.logsFor(uuidFromName('environment:blog/live')).map((e) => e.message);
    expect(msgs).toContain("KeyError: 'author'");
  });

  it('filters by service, search_query and window', async () => {
    const p = await page(`${logsPath(shopLive)}?service=worker&search_query=OperationalError&limit=20`);
    expect(p.results.length).toBeGreaterThan(0);
    for (const e of p.results) {
      expect(e.service).toBe('worker');
      expect(e.message.toLowerCase()).toContain('operationalerror');
    }
    expect(p.next).toContain('service=worker');
    const from = clock - 3_600_000;
    const to = clock - 1_800_000;
    const w = await page(
      `${logsPath(shopLive)}?from_ts=${new Date(from).toISOString()}&to_ts=${new Date(to).toISOString()}`,
    );
    expect(w.results.length).toBeGreaterThan(0);
    for (const e of w.results) {
      const t = Date.parse(e.timestamp);
      expect(t).toBeGreaterThanOrEqual(from);
      expect(t).toBeLessThanOrEqual(to);
    }
  });

  it('validates parameters with 400 field errors', async () => {
    expect(await fetchLogs(`${logsPath(shopLive)}?search_query=ab`)).toEqual({
      status: 400,
      body: { search_query: ['Ensure this field has at least 3 characters.'] },
    });
    expect((await fetchLogs(`${logsPath(shopLive)}?search_query=${'x'.repeat(33)}`)).status).toBe(400);
    expect(await fetchLogs(`${logsPath(shopLive)}?limit=1001`)).toEqual({
      status: 400,
      body: { limit: ['Ensure this value is less than or equal to 1000.'] },
    });
    expect((await fetchLogs(`${logsPath(shopLive)}?limit=0`)).status).toBe(400);
    expect((await fetchLogs(`${logsPath(shopLive)}?from_ts=yesterday`)).body).toHaveProperty('from_ts');
    expect((await fetchLogs(`${logsPath(shopLive)}?search_after=garbage`)).status).toBe(400);
  });

  it('defaults to limit 1000', async () => {
    const p = await page(logsPath(shopLive));
    expect(p.results).toHaveLength(1000);
  });
});
