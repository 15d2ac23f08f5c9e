import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentMetrics, readSeries, summarise } from '../src/domain/metrics.js';
import { uuidFromName } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

type Summary = {
  name: string;
  unit: string | null;
  points: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  max: number | null;
  latest: number | null;
  series: { at: string; value: number }[] | null;
};
type Out = { from: string; to: string; metrics: Summary[]; available: string[]; interval_seconds: number };

describe('metric series and summaries (domain)', () => {
  it('reads [seconds, value] pairs, {timestamp, value} items and string values; skips unreadable points', () => {
    expect(
      readSeries([
        [1_700_000_060, '2.5'],
        [1_700_000_000, 1],
        [null, 3],
        [1_700_000_120, 'x'],
      ]),
    ).toEqual([
      { ms: 1_700_000_000_000, value: 1 },
      { ms: 1_700_000_060_000, value: 2.5 },
    ]);
    expect(
      readSeries({
        values: [
          { timestamp: '2026-12-02T09:00:00Z', value: 4 },
          { time: Date.parse('2026-12-02T09:01:00Z'), y: 5 },
        ],
      }),
    ).toEqual([
      { ms: Date.parse('2026-12-02T09:00:00Z'), value: 4 },
      { ms: Date.parse('2026-12-02T09:01:00Z'), value: 5 },
    ]);
  });

  it('summarises with nearest-rank percentiles and thins the series evenly to 60 points, ends kept', () => {
    const raw = Array.from({ length: 100 }, (_, i) => [1_700_000_000 + i * 60, i + 1]);
    const s = summarise('cpu_usage', undefined, raw, true);
    expect([s.min, s.p50, s.p90, s.max, s.latest, s.points]).toEqual([1, 50, 90, 100, 100, 100]);
    expect(s.series).toHaveLength(60);
    expect(s.series?.[0]?.value).toBe(1);
    expect(s.series?.at(-1)?.value).toBe(100);
    expect(summarise('x', undefined, [], false)).toMatchObject({
      points: 0,
      min: null,
      latest: null,
      series: null,
    });
  });
});

describe('get_environment_metrics against the sandbox', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('summarises every visible metric of the last hour, names discovered from the metadata', async () => {
    const r = await h.call('get_environment_metrics', { app: 'shop', environment: 'live' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as Out;
    expect(out.available).toEqual([
      'cpu_usage',
      'memory_usage',
      'request_rate',
      'response_time_p95',
      'error_rate',
    ]);
    expect(out.metrics.map((m) => m.name)).toEqual(out.available);
    expect(Date.parse(out.to) - Date.parse(out.from)).toBe(3_600_000);
    expect(out.interval_seconds).toBe(60);
    const by = new Map(out.metrics.map((m) => [m.name, m]));
    expect(by.get('cpu_usage')?.unit).toBe('%');
    expect(by.get('request_rate')?.unit).toBe('requests/s');
    for (const m of out.metrics) {
      expect(m.points, m.name).toBeGreaterThanOrEqual(59);
      expect(m.series).toBeNull();
      const [min, p50, p90, max] = [m.min ?? 0, m.p50 ?? 0, m.p90 ?? 0, m.max ?? 0];
      expect(min <= p50 && p50 <= p90 && p90 <= max, m.name).toBe(true);
    }
    // the database storm of the last 14 minutes shows in the errors and response times
    expect(by.get('error_rate')?.latest ?? 0).toBeGreaterThanOrEqual(150);
    expect(by.get('response_time_p95')?.max ?? 0).toBeGreaterThanOrEqual(5000);
    expect(textOf(r)).toMatch(/"CPU usage" \(cpu_usage\): latest [\d.]+ "%"; min/);
    const sent = h.sandbox.requestLog.find((e) => e.path.endsWith('/metrics/'));
    expect(sent?.query['time_window_preset']).toBe('1h');
    expect(sent?.query['metric']).toEqual(out.available);
  });

  it('a quiet environment stays quiet; series on request over 24 h is capped at 60 points', async () => {
    const r = await h.call('get_environment_metrics', {
      app: 'blog',
      environment: 'test',
      metrics: ['error_rate', 'memory_usage'],
      window: '24h',
      series: true,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as Out;
    expect(out.metrics.map((m) => m.name)).toEqual(['error_rate', 'memory_usage']);
    expect(out.metrics[0]?.max ?? 99).toBeLessThanOrEqual(1);
    expect(out.metrics[1]?.points).toBeGreaterThan(60);
    expect(out.metrics[1]?.series).toHaveLength(60);
  });

  it('an explicit from..to window is sent instead of a preset (domain)', async () => {
    h.sandbox.clearRequestLog();
    const now = h.sandbox.state.now();
    const view = await environmentMetrics(h.divio, uuidFromName('environment:shop/test'), {
      metrics: ['cpu_usage'],
      from: new Date(now - 3 * 3_600_000),
      to: new Date(now),
    });
    const sent = h.sandbox.requestLog.find((e) => e.path.endsWith('/metrics/'));
    expect(sent?.query['time_window_preset']).toBeUndefined();
    expect(sent?.query['from_ts']).toBe(new Date(now - 3 * 3_600_000).toISOString());
    expect(Math.round((Date.parse(view.to ?? '') - Date.parse(view.from ?? '')) / 60_000)).toBe(180);
    expect(view.metrics[0]?.points).toBeGreaterThan(50);
  });

  it('an unknown metric name is refused with the names the environment has, before any series is asked for', async () => {
    h.sandbox.clearRequestLog();
    const r = await h.call('get_environment_metrics', { app: 'shop', environment: 'live', metrics: ['cpu'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(
      "No metric named 'cpu' on this environment. Available: cpu_usage, memory_usage",
    );
    expect(h.sandbox.requestLog.some((e) => e.path.endsWith('/metrics/'))).toBe(false);
  });

  for (const status of [404, 405] as const) {
    it(`a ${status} on the inferred metrics path says the operation is not available there`, async () => {
      h.sandbox.faults.set([{ pathContains: '/metrics/', error: { status } }]);
      try {
        const r = await h.call('get_environment_metrics', { app: 'shop', environment: 'live' });
        expect(r.isError).toBe(true);
        expect(textOf(r)).toContain(
          `This operation (GetEnvironmentMetrics) is not available at GET /apps/v3/environments/{uuid}/metrics/ on this Divio API (HTTP ${status}); the rest of the server is unaffected.`,
        );
      } finally {
        h.sandbox.faults.reset();
      }
    });
  }

  it('the sandbox validates GetEnvironmentMetrics like the reference', async () => {
    const env = uuidFromName('environment:shop/live');
    const get = async (query: string) => {
      const res = await fetch(`${h.sandbox.url}/apps/v3/environments/${env}/metrics/?${query}`, {
        headers: { Authorization: `Token ${h.sandbox.token}` },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await get('')).toEqual({ status: 400, body: { metric: ['This field is required.'] } });
    expect(await get('metric=cpu_usage&time_window_preset=2h')).toEqual({
      status: 400,
      body: { time_window_preset: ['"2h" is not a valid choice.'] },
    });
    const ok = await get('metric=cpu_usage&time_window_preset=6h');
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body).sort()).toEqual(['from_ts', 'interval', 'metrics', 'to_ts']);
    expect(ok.body['interval']).toBe(300);
  });
});
