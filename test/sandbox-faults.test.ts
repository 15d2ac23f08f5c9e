import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox, uuidFromName } from '../src/sandbox/index.js';
import { FakeClock, turn, until } from './helpers/clock.js';

let sb: Sandbox;
/** The sandbox's clock: its fault delays wait on it, and only the tests move it. */
const clock = new FakeClock({ auto: false });
const headers = () => ({ Authorization: `Token ${sb.token}` });
const envId = uuidFromName('environment:blog/test');

beforeAll(async () => {
  sb = await startSandbox({ timings: { deployMs: 100 }, clock });
});
afterEach(() => {
  sb.faults.reset();
  sb.clearRequestLog();
});
afterAll(async () => {
  await sb.close();
});

describe('sandbox: faults', () => {
  it('error answers the configured status for `count` matching requests only', async () => {
    sb.faults.set([{ method: 'GET', path: '/apps/v3/applications/', count: 2, error: { status: 503 } }]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await fetch(`${sb.url}/apps/v3/applications/`, { headers: headers() })).status);
    expect(statuses).toEqual([503, 503, 200]);
    // other paths unaffected
    sb.faults.set({ path: '/apps/v3/backups/', error: { status: 500 } });
    expect((await fetch(`${sb.url}/apps/v3/applications/`, { headers: headers() })).status).toBe(200);
    expect(sb.requestLog.filter((e) => e.fault === 'error').map((e) => e.status)).toEqual([503, 503]);
  });

  it('rateLimit answers 429 with Retry-After and the DRF throttle body', async () => {
    sb.faults.set({ path: '/apps/v3/', count: 1, rateLimit: { retryAfterSeconds: 7 } });
    const r = await fetch(`${sb.url}/apps/v3/environments/`, { headers: headers() });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(await r.json()).toEqual({ detail: 'Request was throttled. Expected available in 7 seconds.' });
  });

  it('latencyMs delays the answer', async () => {
    sb.faults.set({ path: '/iam/v3/me/', latencyMs: 150 });
    let answered = false;
    const pending = fetch(`${sb.url}/iam/v3/me/`, { headers: headers() }).finally(() => {
      answered = true;
    });
    await clock.sleeping();
    expect(clock.pending).toBe(1);
    await clock.advance(149);
    await turn();
    expect(answered).toBe(false);
    await clock.advance(1);
    expect((await pending).status).toBe(200);
  });

  it('reset destroys the socket without handling the request', async () => {
    sb.faults.set({ method: 'POST', path: '/apps/v3/deployments/', count: 1, reset: true });
    const before = sb.state.deployments.size;
    await expect(
      fetch(`${sb.url}/apps/v3/deployments/`, {
        method: 'POST',
        headers: { ...headers(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ environment: envId }),
      }),
    ).rejects.toThrow();
    expect(sb.state.deployments.size).toBe(before);
    expect(sb.requestLog.at(-1)).toMatchObject({ method: 'POST', status: 0, fault: 'reset' });
  });

  it('resetAfterHandling creates exactly one deployment and loses the response', async () => {
    sb.faults.set({ method: 'POST', path: '/apps/v3/deployments/', count: 1, resetAfterHandling: true });
    const before = sb.state.deployments.size;
    await expect(
      fetch(`${sb.url}/apps/v3/deployments/`, {
        method: 'POST',
        headers: { ...headers(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ environment: envId }),
      }),
    ).rejects.toThrow();
    expect(sb.state.deployments.size).toBe(before + 1);
    expect(sb.requestLog.filter((e) => e.method === 'POST')).toHaveLength(1);
    // the rule is used up: a GET shows the deployment that was created
    const created = [...sb.state.deployments.values()].at(-1)?.uuid;
    const list = await fetch(`${sb.url}/apps/v3/deployments/?environment=${envId}`, { headers: headers() });
    const body = (await list.json()) as { results: { uuid: string }[] };
    // (not "still running": on a loaded machine the 100 ms deploy may already have finished)
    expect(body.results.map((d) => d.uuid)).toContain(created);
  });

  it('errorAfterHandling creates the deployment, then answers the error', async () => {
    const other = uuidFromName('environment:marketing-site/test');
    sb.faults.set({
      method: 'POST',
      path: '/apps/v3/deployments/',
      count: 1,
      errorAfterHandling: { status: 502 },
    });
    const before = sb.state.deployments.size;
    const r = await fetch(`${sb.url}/apps/v3/deployments/`, {
      method: 'POST',
      headers: { ...headers(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ environment: other }),
    });
    expect(r.status).toBe(502);
    expect(await r.json()).toEqual({ detail: 'Bad Gateway' });
    expect(sb.state.deployments.size).toBe(before + 1);
    expect(sb.requestLog.at(-1)).toMatchObject({ method: 'POST', status: 502, fault: 'errorAfterHandling' });
  });

  it('malformedJson after a write keeps its 201 and its side effect', async () => {
    const other = uuidFromName('environment:marketing-site/live');
    sb.faults.set({ method: 'POST', path: '/apps/v3/deployments/', count: 1, malformedJson: true });
    const before = sb.state.deployments.size;
    const r = await fetch(`${sb.url}/apps/v3/deployments/`, {
      method: 'POST',
      headers: { ...headers(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ environment: other }),
    });
    expect(r.status).toBe(201);
    const text = await r.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(sb.state.deployments.size).toBe(before + 1);
  });

  it('afterwards rules apply once their rule has fired, ahead of the others', async () => {
    const other = uuidFromName('environment:api-gateway/test');
    sb.faults.set([
      {
        method: 'POST',
        path: '/apps/v3/deployments/',
        count: 1,
        error: { status: 503 },
        afterwards: [{ method: 'GET', path: '/apps/v3/deployments/', count: 1, error: { status: 500 } }],
      },
    ]);
    const list = () => fetch(`${sb.url}/apps/v3/deployments/?environment=${other}`, { headers: headers() });
    expect((await list()).status).toBe(200);
    const post = await fetch(`${sb.url}/apps/v3/deployments/`, {
      method: 'POST',
      headers: { ...headers(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ environment: other }),
    });
    expect(post.status).toBe(503);
    expect((await list()).status).toBe(500);
    expect((await list()).status).toBe(200);
  });

  it('slowBody sends headers first, then the body in pieces over time', async () => {
    sb.faults.set({ path: '/apps/v3/applications/', slowBody: { durationMs: 200, chunks: 4 } });
    const t = clock.now();
    let headersAt: number | undefined;
    let pieces = 0;
    let ended = false;
    const body = new Promise<void>((resolve, reject) => {
      const req = request(`${sb.url}/apps/v3/applications/`, { headers: headers() }, (res) => {
        headersAt = clock.now() - t;
        res.on('data', () => {
          pieces += 1;
        });
        res.on('end', () => {
          ended = true;
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    // The headers and the first piece come before any time has passed; each further piece only once the
    // sandbox's clock has moved on by a quarter of the duration.
    expect(await until(() => pieces === 1)).toBe(true);
    expect(headersAt).toBe(0);
    while (!ended) {
      const seen = pieces;
      await clock.sleeping();
      await turn();
      expect(pieces).toBe(seen);
      await clock.advance(50);
      expect(await until(() => pieces > seen)).toBe(true);
    }
    await body;
    expect(pieces).toBe(4);
    expect(clock.now() - t).toBe(150);
  });

  it('malformedJson answers 200 with an unparseable body', async () => {
    sb.faults.set({ path: '/apps/v3/applications/', count: 1, malformedJson: true });
    const r = await fetch(`${sb.url}/apps/v3/applications/`, { headers: headers() });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it('errorRate fails a deterministic fraction of requests', async () => {
    const run = async () => {
      sb.faults.set({ errorRate: 0.3, errorRateSeed: 42 });
      const out: number[] = [];
      for (let i = 0; i < 40; i++)
        out.push((await fetch(`${sb.url}/iam/v3/me/`, { headers: headers() })).status);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const failures = a.filter((s) => s === 503).length;
    expect(failures).toBeGreaterThan(4);
    expect(failures).toBeLessThan(25);
  });

  it('records every request in the log with parsed query and body', async () => {
    await fetch(`${sb.url}/apps/v3/environments/?application=${uuidFromName('application:shop')}&slug=live`, {
      headers: headers(),
    });
    expect(sb.requestLog[0]).toMatchObject({
      method: 'GET',
      path: '/apps/v3/environments/',
      query: { application: uuidFromName('application:shop'), slug: 'live' },
      status: 200,
    });
  });
});
