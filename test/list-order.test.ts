import { afterEach, describe, expect, it } from 'vitest';
import type { ListOrder, Sandbox } from '../src/sandbox/index.js';
import { uuidFromName } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

// No source establishes the order of the backup, restore and download lists. These tests run the tools
// against a sandbox that pages them newest first and one that pages them oldest first, and against one that
// answers with smaller pages than asked, and require the same answers.

let h: Harness;
afterEach(async () => h?.close());

const ORDERS: ListOrder[] = ['newest-first', 'oldest-first'];
const MINUTE = 60_000;

/** Adds `n` successful backups (no service backups) to an environment, one minute apart, older than the seed's. */
function addBackups(sb: Sandbox, envUuid: string, n: number): void {
  const oldest = sb.state.startedAt - 30 * 24 * 60 * MINUTE;
  for (let i = 0; i < n; i++) {
    const uuid = uuidFromName(`test-backup:${envUuid}:${i}`);
    sb.state.backups.set(uuid, {
      uuid,
      environment: envUuid,
      org_membership: uuidFromName('org-membership:sandbox'),
      createdMs: oldest + i * MINUTE,
      durationMs: 0,
      outcome: 'SUCCESS',
      trigger: 'MANUAL',
      notes: `extra ${i}`,
      scheduled_for_deletion_at: null,
      serviceInstanceBackups: [],
    });
  }
}

/** Every backup of the environment, newest first, as the sandbox holds them. */
function expectedNewestFirst(sb: Sandbox, envUuid: string): string[] {
  return [...sb.state.backups.values()]
    .filter((b) => b.environment === envUuid)
    .sort((a, b) => b.createdMs - a.createdMs)
    .map((b) => b.uuid);
}

const backupListCalls = (sb: Sandbox) =>
  sb.requestLog.filter((e) => e.method === 'GET' && e.path === '/apps/v3/backups/');

async function pageThrough(limit: number): Promise<{ uuids: string[]; calls: number }> {
  const uuids: string[] = [];
  let cursor: string | undefined;
  let calls = 0;
  for (;;) {
    const r = await h.call('list_backups', {
      app: 'blog',
      environment: 'test',
      limit,
      ...(cursor ? { cursor } : {}),
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    calls++;
    const out = r.structuredContent as { backups: { uuid: string }[]; next_cursor: string | null };
    uuids.push(...out.backups.map((b) => b.uuid));
    if (!out.next_cursor) return { uuids, calls };
    cursor = out.next_cursor;
    if (calls > 50) throw new Error('cursor never ended');
  }
}

describe.each(ORDERS)('list_backups when the API pages %s', (listOrder) => {
  it('is newest first across every page, and the cursors reach every backup once', async () => {
    h = await startHarness({ sandbox: { listOrder } });
    const env = uuidFromName('environment:blog/test');
    addBackups(h.sandbox, env, 9);
    const expected = expectedNewestFirst(h.sandbox, env);
    const { uuids } = await pageThrough(4);
    expect(uuids).toEqual(expected);
  });

  it('reads the newest backups in at most three requests (first page, last page, the one before)', async () => {
    h = await startHarness({ sandbox: { listOrder } });
    const env = uuidFromName('environment:blog/test');
    addBackups(h.sandbox, env, 9);
    h.sandbox.clearRequestLog();
    const r = await h.call('list_backups', { app: 'blog', environment: 'test', limit: 4 });
    const out = r.structuredContent as { backups: { uuid: string }[] };
    expect(out.backups.map((b) => b.uuid)).toEqual(expectedNewestFirst(h.sandbox, env).slice(0, 4));
    expect(backupListCalls(h.sandbox).length).toBeLessThanOrEqual(listOrder === 'newest-first' ? 1 : 3);
  });

  it('finds the newest backup with limit 1 (one object per page shows no order)', async () => {
    h = await startHarness({ sandbox: { listOrder } });
    const env = uuidFromName('environment:blog/test');
    addBackups(h.sandbox, env, 5);
    const r = await h.call('list_backups', { app: 'blog', environment: 'test', limit: 1 });
    const out = r.structuredContent as { backups: { uuid: string }[]; has_more: boolean };
    expect(out.backups.map((b) => b.uuid)).toEqual(expectedNewestFirst(h.sandbox, env).slice(0, 1));
    expect(out.has_more).toBe(true);
  });

  it('stays newest first when the API answers with smaller pages than asked', async () => {
    h = await startHarness({ sandbox: { listOrder, maxPageSize: 3 } });
    const env = uuidFromName('environment:blog/test');
    addBackups(h.sandbox, env, 8);
    const { uuids } = await pageThrough(5);
    expect(uuids).toEqual(expectedNewestFirst(h.sandbox, env));
  });

  it('diagnose_environment names the newest successful backup', async () => {
    h = await startHarness({ sandbox: { listOrder } });
    const env = uuidFromName('environment:blog/test');
    addBackups(h.sandbox, env, 60);
    const r = await h.call('diagnose_environment', { app: 'blog', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const last = r.structuredContent?.['last_successful_backup'] as { uuid: string };
    expect(last.uuid).toBe(expectedNewestFirst(h.sandbox, env)[0]);
  });
});

describe('list_backups when the API pages in no time order (by ID)', () => {
  it('reads the list whole, sorts it, and the cursors still reach every backup once', async () => {
    h = await startHarness({ sandbox: { listOrder: 'by-id', maxPageSize: 4 } });
    const env = uuidFromName('environment:blog/test');
    addBackups(h.sandbox, env, 9);
    const { uuids } = await pageThrough(5);
    expect(uuids).toEqual(expectedNewestFirst(h.sandbox, env));
  });
});

describe('objects created by a write are found by the ID it returned, never by list position', () => {
  it('restore_backup finds the restore a lost response created instead of failing or sending it again', async () => {
    h = await startHarness({ config: { confirmMode: 'none' }, sandbox: { listOrder: 'oldest-first' } });
    const list = await h.call('list_backups', { app: 'blog', environment: 'test' });
    const backup = (
      (list.structuredContent?.['backups'] ?? []) as { uuid: string; success: string | null }[]
    ).find((b) => b.success === 'SUCCESS');
    const first = await h.call('restore_backup', { backup: backup?.uuid, services: ['database'] });
    expect(first.isError, textOf(first)).toBeFalsy();
    h.sandbox.faults.set({
      rules: [{ method: 'POST', path: '/apps/v3/backup-restores/', count: 1, resetAfterHandling: true }],
    });
    const second = await h.call('restore_backup', { backup: backup?.uuid, services: ['database'] });
    expect(second.isError, textOf(second)).toBeFalsy();
    const restores = [...h.sandbox.state.backupRestores.values()].sort((a, b) => b.createdMs - a.createdMs);
    expect(restores).toHaveLength(2);
    const result = second.structuredContent?.['result'] as { restore: string; success: string };
    expect(result.restore).toBe(restores[0]?.uuid);
    expect(result.success).toBe('SUCCESS');
  });

  it("restore_backup's confirmation is bound to the newest restore by time, not to the list's first entry", async () => {
    h = await startHarness({ sandbox: { listOrder: 'oldest-first' } });
    const list = await h.call('list_backups', { app: 'blog', environment: 'test' });
    const backup = (
      (list.structuredContent?.['backups'] ?? []) as { uuid: string; success: string | null }[]
    ).find((b) => b.success === 'SUCCESS');
    const sibs = (await h.divio.backups.get(backup?.uuid ?? '')).service_instance_backups ?? [];
    const restoreDirectly = () =>
      h.divio.backupRestores.create({
        backup: backup?.uuid ?? '',
        service_instance_restores: [{ service_instance_backup: String(sibs[0]) }],
      });
    await restoreDirectly();
    const preview = await h.call('restore_backup', { backup: backup?.uuid, services: ['database'] });
    const token = preview.structuredContent?.['confirmation_token'];
    expect(typeof token).toBe('string');
    // Someone else restores the environment after the preview: the token must no longer work.
    await restoreDirectly();
    const posts = () =>
      h.sandbox.requestLog.filter((e) => e.method === 'POST' && e.path === '/apps/v3/backup-restores/')
        .length;
    const before = posts();
    const r = await h.call('restore_backup', {
      backup: backup?.uuid,
      services: ['database'],
      confirm: token,
    });
    expect(r.isError).toBe(true);
    expect(posts()).toBe(before);
  });

  it('create_backup_download picks its own download part even when the filter is ignored', async () => {
    h = await startHarness({ config: { confirmMode: 'none' }, sandbox: { listOrder: 'oldest-first' } });
    const list = await h.call('list_backups', { app: 'blog', environment: 'test' });
    const backup = (
      (list.structuredContent?.['backups'] ?? []) as { uuid: string; success: string | null }[]
    ).find((b) => b.success === 'SUCCESS');
    const first = await h.call('create_backup_download', { backup: backup?.uuid });
    expect(first.isError, textOf(first)).toBeFalsy();
    // As if the server did not know the reference's `backup_download` filter (the CLI sends `backup=`).
    h.sandbox.control.ignoreFilters(['backup_download']);
    const second = await h.call('create_backup_download', { backup: backup?.uuid });
    expect(second.isError, textOf(second)).toBeFalsy();
    const url = (second.structuredContent?.['result'] as { download_url: string } | undefined)?.download_url;
    const downloads = [...h.sandbox.state.backupDownloads.values()].sort((a, b) => b.createdMs - a.createdMs);
    const mine = [...h.sandbox.state.backupDownloadServiceInstances.values()].find(
      (x) => x.backup_download === downloads[0]?.uuid,
    );
    expect(mine).toBeDefined();
    expect(url).toContain(`/_storage/${mine?.uuid}?`);
    const lists = h.sandbox.requestLog.filter(
      (e) => e.method === 'GET' && e.path === '/apps/v3/backup-download-service-instances/',
    );
    expect(lists.at(-1)?.query['backup_download']).toBe(downloads[0]?.uuid);
    expect(lists.at(-1)?.query['backup']).toBeUndefined();
  });
});

describe('lists read whole follow next and never trust page_size', () => {
  it('get_environment lists every service instance when pages hold one', async () => {
    h = await startHarness({ sandbox: { maxPageSize: 1 } });
    const r = await h.call('get_environment', { app: 'shop', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const services = r.structuredContent?.['service_instances'] as { type: string }[];
    expect(services.map((s) => s.type).sort()).toEqual(['DATABASE', 'STORAGE']);
    expect(r.structuredContent?.['service_instances_note']).toBeNull();
  });

  it('says so when the service-instance list is longer than the page cap', async () => {
    h = await startHarness({ sandbox: { maxPageSize: 1 } });
    const env = uuidFromName('environment:shop/test');
    const template = h.sandbox.state.serviceInstances.get(
      uuidFromName('service-instance:shop/test:DATABASE:DEFAULT'),
    );
    if (!template) throw new Error('seed changed');
    for (let i = 0; i < 25; i++) {
      const uuid = uuidFromName(`test-si:${i}`);
      h.sandbox.state.serviceInstances.set(uuid, {
        ...template,
        uuid,
        environment: env,
        prefix: `EXTRA${i}`,
      });
    }
    const r = await h.call('get_environment', { app: 'shop', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent?.['service_instances'] as unknown[]).toHaveLength(20);
    expect(r.structuredContent?.['service_instances_note']).toContain('Only the first 20 of 27');
    expect(textOf(r)).toContain('Only the first 20 of 27');
  });

  it('get_backup and list_backups show every service backup when pages hold one', async () => {
    h = await startHarness({ sandbox: { maxPageSize: 1 } });
    const r = await h.call('list_backups', { app: 'blog', environment: 'test', limit: 2 });
    const backups = r.structuredContent?.['backups'] as { uuid: string; services: { type: string }[] }[];
    for (const b of backups) expect(b.services.map((s) => s.type).sort()).toEqual(['DATABASE', 'STORAGE']);
    const one = await h.call('get_backup', { backup: backups[0]?.uuid });
    expect(one.structuredContent?.['services'] as unknown[]).toHaveLength(2);
  });

  it('create_backup backs up every service when pages hold one', async () => {
    h = await startHarness({ config: { confirmMode: 'none' }, sandbox: { maxPageSize: 1 } });
    const r = await h.call('create_backup', { app: 'blog', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const post = h.sandbox.requestLog.find((e) => e.method === 'POST' && e.path === '/apps/v3/backups/');
    expect((post?.body as { services: string[] } | undefined)?.services).toHaveLength(2);
  });
});
