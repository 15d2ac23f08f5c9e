import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidFromName } from '../src/sandbox/index.js';
import { formatBytes, presignedExpiry } from '../src/text/format.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

type Row = Record<string, unknown>;

describe('sizes', () => {
  it('are binary and say so (KiB, MiB, GiB)', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(40 * 1024 * 1024)).toBe('40 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(null)).toBe('unknown size');
  });
});

describe('presigned download links', () => {
  it('read their expiry from S3 v4, S3 v2/sandbox and Azure SAS parameters', () => {
    expect(
      presignedExpiry(
        'https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261202T093000Z&X-Amz-Expires=3600&X-Amz-Signature=ab',
      ),
    ).toBe('2026-12-02T10:30:00.000Z');
    expect(presignedExpiry('https://sos.example/k?Expires=1764675000&Signature=x')).toBe(
      new Date(1764675000 * 1000).toISOString(),
    );
    expect(presignedExpiry('https://a.blob.core.windows.net/c/k?sv=2022&se=2026-12-02T11:00:00Z&sig=x')).toBe(
      '2026-12-02T11:00:00.000Z',
    );
    expect(presignedExpiry('https://example.com/file')).toBeNull();
    expect(presignedExpiry('not a url')).toBeNull();
  });
});

describe('output fixes through a real MCP client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('backups show their trigger and sizes in MiB; scheduled notes are not called user-written', async () => {
    const r = await h.call('list_backups', { app: 'shop', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const backups = r.structuredContent?.['backups'] as Row[];
    const scheduled = backups.find((b) => b['uuid'] === uuidFromName('backup:shop/test:0'));
    expect(scheduled?.['trigger']).toBe('SCHEDULED');
    const manual = backups.find((b) => b['uuid'] === uuidFromName('backup:shop/test:1'));
    expect(manual?.['trigger']).toBe('MANUAL');
    const text = textOf(r);
    const line = text.split('\n').find((l) => l.includes(uuidFromName('backup:shop/test:0')));
    expect(line).toContain('trigger SCHEDULED');
    expect(line).toContain('notes: "Scheduled backup"');
    expect(text).not.toContain('user-written');
    expect(text).toMatch(/\d MiB/);
    expect(text).not.toMatch(/\d MB\b/);
  });

  it('a download link carries expires_at, the expiry its signed URL names', async () => {
    const r = await h.call('create_backup_download', {
      backup: uuidFromName('backup:shop/test:1'),
      wait_seconds: 30,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as { download_url: string; expires_at: string };
    const expires = Number(new URL(result.download_url).searchParams.get('expires'));
    expect(expires).toBeGreaterThan(0);
    expect(result.expires_at).toBe(new Date(expires * 1000).toISOString());
    expect(textOf(r)).toContain(`valid until ${result.expires_at}`);
  });

  it('domains show is_redirect_to_primary', async () => {
    const r = await h.call('list_domains', { app: 'shop', environment: 'live' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const domains = r.structuredContent?.['domains'] as Row[];
    const byName = new Map(domains.map((d) => [d['name'], d]));
    expect(byName.get('www.shop.acme.example')?.['redirect_to_primary']).toBe(false);
    expect(byName.get('shop.acme.example')?.['redirect_to_primary']).toBe(true);
    const line = textOf(r)
      .split('\n')
      .find((l) => l.includes('"shop.acme.example"'));
    expect(line).toContain('redirects to the primary domain');
  });

  it('cronjob times say their time zone', async () => {
    const r = await h.call('list_cronjobs', { app: 'shop', environment: 'live' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const jobs = r.structuredContent?.['cronjobs'] as Row[];
    expect(jobs.every((j) => j['time_zone'] === 'UTC')).toBe(true);
    expect(textOf(r)).toContain('DAILY at 03:30 UTC');
    expect(textOf(r)).toContain('HOURLY at ":15" UTC');
  });

  it('a log line ending in \\r (after its ANSI colours are stripped) leaves no blank line', async () => {
    const r = await h.call('get_environment_logs', {
      app: 'shop',
      environment: 'live',
      search: 'Worker timeout',
      since: '30h',
      limit: 50,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const entries = r.structuredContent?.['entries'] as { message: string }[];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.message).toBe('ERROR gunicorn.error: Worker timeout (pid:57)');
    expect(textOf(r)).not.toMatch(/\n\s*\n/);
  });
});
