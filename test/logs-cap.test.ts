import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

describe('get_environment_logs size cap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('keeps a whole result near twice the cap (text and structured copy), however large the limit', async () => {
    const r = await h.call('get_environment_logs', { app: 'shop', environment: 'live', limit: 1000 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const size = Buffer.byteLength(JSON.stringify(r), 'utf8');
    expect(size).toBeLessThan(2 * h.config.maxLogBytes + 16_000);
    expect(r.structuredContent?.['cut']).toBeGreaterThan(0);
    expect(String(r.structuredContent?.['note'])).toContain('Narrow with');
  });

  it('refuses a window whose start is not before its end', async () => {
    const r = await h.call('get_environment_logs', {
      app: 'shop',
      environment: 'live',
      since: '1h',
      until: '2h',
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('is not before until');
  });
});
