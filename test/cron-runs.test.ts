import { MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import { lastCronRuns } from '../src/domain/cron.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

// A fixed sandbox clock: shop/live's database storm began at 09:53 (14 minutes before), so its cronjobs fail since.
const NOW = Date.parse('2026-12-02T10:07:00Z');

type Job = {
  command: string;
  frequency: string;
  time: string | null;
  time_zone: string;
  last_runs:
    | {
        started_at: string | null;
        finished_at: string | null;
        exit_code: number | null;
        seconds: number | null;
      }[]
    | null;
};

describe('cron runs (list_cronjobs runs)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { now: () => NOW } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('shows each schedule with its timezone and the last run, on the schedule', async () => {
    const r = await h.call('list_cronjobs', { app: 'shop', environment: 'live', runs: true });
    expect(r.isError, textOf(r)).toBeFalsy();
    const jobs = (r.structuredContent as { cronjobs: Job[] }).cronjobs;
    const by = new Map(jobs.map((j) => [j.command, j]));
    const daily = by.get('python manage.py clearsessions');
    expect([daily?.frequency, daily?.time, daily?.time_zone]).toEqual(['DAILY', '03:30', 'UTC']);
    expect(daily?.last_runs?.[0]?.started_at).toBe('2026-12-02T03:30:00.000Z');
    const hourly = by.get('python manage.py expire_carts');
    expect([hourly?.frequency, hourly?.time]).toEqual(['HOURLY', ':15']);
    expect(hourly?.last_runs?.[0]?.started_at).toBe('2026-12-02T09:15:00.000Z');
    const often = by.get('python manage.py send_queued_mail');
    expect(often?.frequency).toBe('EVERY10MIN');
    const run = often?.last_runs?.[0];
    expect(run?.started_at).toBe('2026-12-02T10:00:00.000Z');
    // since the storm every run fails
    expect(run?.exit_code).toBe(1);
    expect(run?.seconds).toBeGreaterThan(0);
    expect(textOf(r)).toMatch(
      /EVERY10MIN: command .*send_queued_mail.*; last run 2026-12-02T10:00:00.000Z, exit code 1 \(\d+ s\)/,
    );
    expect(textOf(r)).toContain('DAILY at 03:30 UTC');
  });

  it('without runs, no cronjob log is read', async () => {
    h.sandbox.clearRequestLog();
    const r = await h.call('list_cronjobs', { app: 'blog', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect((r.structuredContent as { cronjobs: Job[] }).cronjobs.every((j) => j.last_runs === null)).toBe(
      true,
    );
    expect(h.sandbox.requestLog.some((e) => e.path.includes('/cronjobs/') && e.path.endsWith('/logs/'))).toBe(
      false,
    );
  });

  it('the runtime log’s cronjob lines follow the same schedule and tell the same outcome', async () => {
    const r = await h.call('get_environment_logs', {
      app: 'shop',
      environment: 'live',
      service: 'cronjob',
      since: '2026-12-02T09:00:00Z',
      until: '2026-12-02T10:07:00Z',
      limit: 200,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const entries = (r.structuredContent as { entries: { timestamp: string; message: string }[] }).entries;
    const starts = entries.filter((e) => e.message.startsWith('Running cronjob:'));
    expect(starts.length).toBeGreaterThan(0);
    for (const e of starts) {
      const d = new Date(e.timestamp);
      if (e.message.endsWith('send_queued_mail')) expect(d.getUTCMinutes() % 10).toBe(0);
      else if (e.message.endsWith('expire_carts')) expect(d.getUTCMinutes()).toBe(15);
      expect(d.getUTCSeconds()).toBe(0);
    }
    expect(starts.map((e) => e.message)).not.toContain('Running cronjob: python manage.py clearsessions');
    const last = entries.filter((e) => e.message.includes('send_queued_mail finished')).at(-1);
    expect(last?.message).toBe('Cronjob python manage.py send_queued_mail finished with exit code 1');
  });

  for (const status of [404, 405] as const) {
    it(`a ${status} on the inferred cronjob logs path says the operation is not available there`, async () => {
      h.sandbox.faults.set([{ pathContains: '/logs/', path: '/apps/v3/cronjobs/', error: { status } }]);
      try {
        const r = await h.call('list_cronjobs', { app: 'shop', environment: 'live', runs: true });
        expect(r.isError).toBe(true);
        expect(textOf(r)).toContain(
          `This operation (GetCronjobLogs) is not available at GET /apps/v3/cronjobs/{uuid}/logs/ on this Divio API (HTTP ${status}); the rest of the server is unaffected.`,
        );
        const plain = await h.call('list_cronjobs', { app: 'shop', environment: 'live' });
        expect(plain.isError, textOf(plain)).toBeFalsy();
      } finally {
        h.sandbox.faults.reset();
      }
    });
  }
});

describe('cron runs (domain, MockAgent)', () => {
  it('reads a single run, a list and a page alike, newest first', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const BASE = 'https://api.example.test';
    const headers = { 'content-type': 'application/json' };
    const run = (at: string, code: number) => ({
      started_at: at,
      finished_at: at.replace(':00Z', ':30Z'),
      exit_code: code,
    });
    const pool = agent.get(BASE);
    pool
      .intercept({ path: '/apps/v3/cronjobs/aaaaaaaaaaaaaaaaaaaaaaaaaa/logs/' })
      .reply(200, run('2026-12-02T09:00:00Z', 0), { headers });
    pool
      .intercept({ path: '/apps/v3/cronjobs/bbbbbbbbbbbbbbbbbbbbbbbbbb/logs/' })
      .reply(200, [run('2026-12-02T08:00:00Z', 0), run('2026-12-02T09:00:00Z', 2)], { headers });
    pool
      .intercept({ path: '/apps/v3/cronjobs/cccccccccccccccccccccccccc/logs/' })
      .reply(
        200,
        { count: 1, next: null, previous: null, results: [run('2026-12-02T07:00:00Z', 0)] },
        { headers },
      );
    const client = new DivioClient({ token: 'tok_0123456789', baseUrl: BASE, dispatcher: agent });
    const runs = await lastCronRuns(client, [
      'aaaaaaaaaaaaaaaaaaaaaaaaaa',
      'bbbbbbbbbbbbbbbbbbbbbbbbbb',
      'cccccccccccccccccccccccccc',
    ]);
    expect(runs.get('aaaaaaaaaaaaaaaaaaaaaaaaaa')).toEqual([
      { started_at: '2026-12-02T09:00:00Z', finished_at: '2026-12-02T09:00:30Z', exit_code: 0, seconds: 30 },
    ]);
    expect(runs.get('bbbbbbbbbbbbbbbbbbbbbbbbbb')?.map((r) => r.exit_code)).toEqual([2, 0]);
    expect(runs.get('cccccccccccccccccccccccccc')).toHaveLength(1);
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
});
