import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/sandbox/index.js';
import { ERAS, FAST, type Harness, startHarness, textOf } from './helpers/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const deployPosts = (x: { sandbox: Sandbox }) =>
  x.sandbox.requestLog.filter((e) => e.method === 'POST' && e.path === '/apps/v3/deployments/');

describe.each(ERAS)('deploy_environment (%s era)', (era) => {
  it('waits with increasing progress and returns the finished deployment', async () => {
    h = await startHarness({
      era,
      config: { confirmMode: 'none' },
      sandbox: { timings: { ...FAST, deployMs: 1500 } },
    });
    const progress: number[] = [];
    const r = await h.call(
      'deploy_environment',
      { app: 'blog', environment: 'test' },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as Record<string, unknown>;
    expect(result['finished']).toBe(true);
    expect((result['deployment'] as { success: boolean }).success).toBe(true);
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1] as number);
    expect(deployPosts(h)).toHaveLength(1);
  });

  it('returns the failing part of the log when the deploy fails', async () => {
    h = await startHarness({ era, config: { confirmMode: 'none' } });
    const r = await h.call('deploy_environment', { app: 'shop', environment: 'live' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as {
      failure_excerpt: string[];
      deployment: { success: boolean };
    };
    expect(result.deployment.success).toBe(false);
    expect(result.failure_excerpt.join('\n')).toContain('stripe==99.0.1');
    expect(textOf(r)).toContain('untrusted-data');
  });
});

describe('deploy_environment safety', () => {
  it('attaches to a running deployment instead of starting another, without asking', async () => {
    h = await startHarness({ sandbox: { timings: { ...FAST, deployMs: 3000 } } });
    // Someone else started a deploy a moment ago.
    const env = await h.divio.resolveEnvironment(await h.divio.resolveApplication('blog'), 'test');
    const running = await h.divio.deployments.create({ environment: env.uuid });
    h.sandbox.clearRequestLog();
    const r = await h.call('deploy_environment', { app: 'blog', environment: 'test', wait_seconds: 30 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as { attached: boolean; deployment: { uuid: string } };
    expect(result.attached).toBe(true);
    expect(result.deployment.uuid).toBe(running.uuid);
    expect(deployPosts(h)).toHaveLength(0);
  });

  it('a deploy whose POST response is lost creates exactly one deployment', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    h.sandbox.faults.set({
      method: 'POST',
      path: '/apps/v3/deployments/',
      resetAfterHandling: true,
      count: 1,
    });
    const r = await h.call('deploy_environment', { app: 'blog', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deployPosts(h)).toHaveLength(1);
    const env = await h.divio.resolveEnvironment(await h.divio.resolveApplication('blog'), 'test');
    const mine = [...h.sandbox.state.deployments.values()].filter(
      (d) => d.environment === env.uuid && d.startedMs > h.clock.now() - 60_000,
    );
    expect(mine).toHaveLength(1);
    const result = r.structuredContent?.['result'] as { deployment: { uuid: string } };
    expect(result.deployment.uuid).toBe(mine[0]?.uuid);
  });

  it('a deploy whose answer was lost and that created nothing visible is not re-sent blindly', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    // The connection drops after the request went out; nothing was created, but the server cannot know that.
    h.sandbox.faults.set({ method: 'POST', path: '/apps/v3/deployments/', reset: true, count: 1 });
    const r = await h.call('deploy_environment', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('The deploy of blog/test did not happen');
    expect(textOf(r)).not.toMatch(/try again/i);
    expect(deployPosts(h)).toHaveLength(1);
  });

  it('wait_seconds 0 returns a handle and the operation keeps going', async () => {
    h = await startHarness({
      config: { confirmMode: 'none' },
      sandbox: { timings: { ...FAST, deployMs: 5000 } },
    });
    const r = await h.call('deploy_environment', { app: 'blog', environment: 'test', wait_seconds: 0 });
    const result = r.structuredContent?.['result'] as {
      finished: boolean;
      next_step: string;
      deployment: { uuid: string };
    };
    expect(result.finished).toBe(false);
    expect(result.next_step).toContain('get_deployment');
    expect(result.next_step).toContain(result.deployment.uuid);
  });
});

describe('restore_backup and create_backup_download', () => {
  it('restore waits until finished and names what it overwrote', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    const list = await h.call('list_backups', { app: 'blog', environment: 'test' });
    const backup = (
      (list.structuredContent?.['backups'] ?? {}) as { uuid: string; success: string | null }[]
    ).find((b) => b.success === 'SUCCESS');
    const r = await h.call('restore_backup', { backup: backup?.uuid, services: ['database'] });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as {
      finished: boolean;
      success: string;
      services: string[];
    };
    expect(result.finished).toBe(true);
    expect(result.success).toBe('SUCCESS');
    expect(result.services.join()).toContain('database');
    const post = h.sandbox.requestLog.find(
      (e) => e.method === 'POST' && e.path === '/apps/v3/backup-restores/',
    );
    expect(
      ((post?.body ?? {}) as { service_instance_restores: unknown[] }).service_instance_restores,
    ).toHaveLength(1);
  });

  it('refuses to restore a failed backup', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    const list = await h.call('list_backups', { app: 'intranet', environment: 'live' });
    const failed = ((list.structuredContent?.['backups'] ?? {}) as { uuid: string }[])[0];
    const r = await h.call('restore_backup', { backup: failed?.uuid });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('cannot be used');
    expect(h.sandbox.requestLog.filter((e) => e.method !== 'GET')).toHaveLength(0);
  });

  it('download URL is a working pre-signed link', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    const list = await h.call('list_backups', { app: 'blog', environment: 'test' });
    const backup = (
      (list.structuredContent?.['backups'] ?? {}) as { uuid: string; success: string | null }[]
    ).find((b) => b.success === 'SUCCESS');
    const r = await h.call('create_backup_download', { backup: backup?.uuid });
    const url = ((r.structuredContent?.['result'] ?? {}) as { download_url: string }).download_url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_storage\//);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const head = Buffer.from(await res.arrayBuffer())
      .subarray(0, 5)
      .toString('latin1');
    expect(head).toBe('PGDMP');
  });
});

describe('attach promise', () => {
  it('never starts an unconfirmed deploy when the one it meant to attach to has finished', async () => {
    h = await startHarness({ sandbox: { timings: { ...FAST, deployMs: 2000 } } });
    const env = await h.divio.resolveEnvironment(await h.divio.resolveApplication('blog'), 'test');
    await h.divio.deployments.create({ environment: env.uuid });
    h.sandbox.clearRequestLog();
    // The preview sees the running deploy; by the time the handler looks again it has finished.
    const running = h.sandbox.state.deploymentsOf(env.uuid)[0];
    if (!running) throw new Error('no running deployment');
    const originalGet = h.divio.environments.get.bind(h.divio.environments);
    let calls = 0;
    h.divio.environments.get = async (uuid, opts) => {
      calls++;
      // First look (the preview): running. Later looks: the deploy has ended.
      if (calls > 1) running.startedMs -= 60_000;
      return originalGet(uuid, opts);
    };
    const r = await h.call('deploy_environment', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('Nothing new was started');
    expect(deployPosts(h)).toHaveLength(0);
  });
});
