import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, until } from './helpers/clock.js';
import { ERAS, type Harness, startHarness, textOf } from './helpers/harness.js';

const BACKUP_GET = /^\/apps\/v3\/backups\/[a-z2-7]{26}\/$/;

describe.each(ERAS)('long operations (%s era)', (era) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('create_backup reports strictly increasing progress ending at 100', async () => {
    h = await startHarness({
      era,
      sandbox: { timings: { backupMs: 1200 } },
      config: { pollIntervalMs: 100 },
    });
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const r = await h.call(
      'create_backup',
      { app: 'shop', environment: 'test' },
      { onprogress: (p) => seen.push(p) },
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    expect((r.structuredContent as { finished: boolean }).finished).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.progress, JSON.stringify(seen)).toBeGreaterThan(seen[i - 1]?.progress ?? -1);
    }
    expect(seen.at(-1)?.progress).toBe(100);
    expect(seen.some((p) => /backup (waiting|working)/i.test(p.message ?? ''))).toBe(true);
  });

  it('cancelling create_backup rejects the call and stops polling', async () => {
    const clock = new FakeClock({ auto: false });
    h = await startHarness({
      era,
      clock,
      sandbox: { timings: { backupMs: 5000 } },
      config: { pollIntervalMs: 50 },
    });
    const sandbox = h.sandbox;
    const polls = () =>
      sandbox.requestLog.filter((e) => e.method === 'GET' && BACKUP_GET.test(e.path)).length;
    const controller = new AbortController();
    const call = h.call('create_backup', { app: 'shop', environment: 'test' }, { signal: controller.signal });
    const settled = call.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    );
    // Two polls go by, then the call is cancelled while the server waits for the next.
    while (polls() < 2) {
      await clock.sleeping();
      await clock.advance(50);
    }
    await clock.sleeping();
    controller.abort();
    expect(await settled).toBe('rejected');
    // The server stops waiting once the cancellation reaches it; then however much time passes, it polls no more.
    expect(await until(() => clock.pending === 0)).toBe(true);
    const afterCancel = polls();
    await clock.advance(60_000);
    expect(polls()).toBe(afterCancel);
    expect(sandbox.requestLog.filter((e) => e.method === 'POST').length).toBe(1);
  });
});
