import { afterEach, describe, expect, it } from 'vitest';
import { ERAS, type Harness, startHarness, textOf } from './helpers/harness.js';

const BACKUP_GET = /^\/apps\/v3\/backups\/[a-z2-7]{26}\/$/;

/** Bounded polling: checks `cond` every 20 ms, at most `ms` in all. */
async function waitUntil(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

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
    h = await startHarness({ era, sandbox: { timings: { backupMs: 5000 } }, config: { pollIntervalMs: 50 } });
    const sandbox = h.sandbox;
    const polls = () =>
      sandbox.requestLog.filter((e) => e.method === 'GET' && BACKUP_GET.test(e.path)).length;
    const controller = new AbortController();
    const call = h.call('create_backup', { app: 'shop', environment: 'test' }, { signal: controller.signal });
    const settled = call.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    );
    // Wait until the server is polling, then cancel mid-wait.
    expect(await waitUntil(() => polls() >= 2)).toBe(true);
    controller.abort();
    expect(await settled).toBe('rejected');
    // Let any poll already in flight land, then require that no new ones follow.
    await new Promise((r) => setTimeout(r, 300));
    const afterCancel = polls();
    await new Promise((r) => setTimeout(r, 500));
    expect(polls()).toBe(afterCancel);
    expect(sandbox.requestLog.filter((e) => e.method === 'POST').length).toBe(1);
  });
});
