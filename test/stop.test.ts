import { afterEach, describe, expect, it } from 'vitest';
import { uuidFromName } from '../src/sandbox/index.js';
import { FAST, type Harness, startHarness, type ToolResult, textOf } from './helpers/harness.js';

// stop_environment (StopEnvironment, inferred path) through a real MCP client against the sandbox.

let h: Harness;
afterEach(async () => h?.close());

const STOP = (app: string, env: string) =>
  `/apps/v3/environments/${uuidFromName(`environment:${app}/${env}`)}/stop/`;
const stops = () => h.sandbox.requestLog.filter((e) => e.method === 'POST' && e.path.endsWith('/stop/'));
const preview = (r: ToolResult) =>
  r.structuredContent?.['preview'] as { summary: string; details: Record<string, string> };
const result = (r: ToolResult) => r.structuredContent?.['result'] as Record<string, unknown>;

describe('stop_environment', () => {
  it('previews what stops and how to start again, stops once by token, and a deploy starts it again', async () => {
    h = await startHarness({ config: { confirmMode: 'token' }, sandbox: { timings: FAST } });
    const before = await h.call('get_environment', { app: 'blog', environment: 'test' });
    const serving = before.structuredContent?.['released_deployment'] as { uuid: string; git_commit: string };
    const args = { app: 'blog', environment: 'test' };
    const first = await h.call('stop_environment', args);
    const p = preview(first);
    expect(p.summary).toBe(
      'Stop blog/test: its instances stop and it serves nothing until it is deployed again.',
    );
    expect(p.details['Stops']).toContain(
      `deployment ${serving.uuid}, commit ${serving.git_commit.slice(0, 10)}`,
    );
    expect(p.details['To start it again']).toBe(
      `deploy_environment (from_deployment ${serving.uuid} puts the same deployment back without building)`,
    );
    expect(stops()).toHaveLength(0);

    const done = await h.call('stop_environment', {
      ...args,
      confirm: first.structuredContent?.['confirmation_token'],
    });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(stops().map((e) => e.path)).toEqual([STOP('blog', 'test')]);
    expect(result(done)).toMatchObject({ stopped: true, stopped_deployment: { uuid: serving.uuid } });
    expect(textOf(done)).toContain('blog/test is stopped');

    const stopped = (await h.call('get_environment', args)).structuredContent;
    expect(stopped?.['released_deployment']).toBeNull();
    expect(stopped?.['url']).toBeNull();
    expect(stopped?.['serving_note']).toContain('Nothing is serving: the environment is stopped');
    // Stopping again is refused before anything is sent.
    const again = await h.call('stop_environment', args);
    expect(again.isError).toBe(true);
    expect(textOf(again)).toContain('serves nothing');
    expect(stops()).toHaveLength(1);

    // The way back the answer names: put the same deployment back.
    const back = await h.call('deploy_environment', {
      ...args,
      from_deployment: serving.uuid,
      wait_seconds: 30,
    });
    const token = back.structuredContent?.['confirmation_token'];
    expect(preview(back).details['Serving now']).toBe('nothing');
    const started = await h.call('deploy_environment', {
      ...args,
      from_deployment: serving.uuid,
      wait_seconds: 30,
      confirm: token,
    });
    expect(started.isError, textOf(started)).toBeFalsy();
    const after = (await h.call('get_environment', args)).structuredContent;
    const released = after?.['released_deployment'] as { git_commit: string } | undefined;
    expect(released?.git_commit).toBe(serving.git_commit);
  });

  it('a protected environment needs the person', async () => {
    h = await startHarness({ sandbox: { timings: FAST } });
    const r = await h.call('stop_environment', { app: 'shop', environment: 'live' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('protected');
    expect(stops()).toHaveLength(0);
  });

  it('refuses while a deployment runs, writing nothing', async () => {
    h = await startHarness({
      config: { confirmMode: 'none' },
      sandbox: { timings: { ...FAST, deployMs: 60_000 } },
    });
    await h.divio.deployments.create({ environment: uuidFromName('environment:blog/test') });
    const r = await h.call('stop_environment', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('is running');
    expect(stops()).toHaveLength(0);
  });

  it('a stop whose answer is lost after it landed is looked up and reported done', async () => {
    h = await startHarness({ config: { confirmMode: 'none' }, sandbox: { timings: FAST } });
    h.sandbox.faults.set({
      method: 'POST',
      path: STOP('blog', 'test'),
      errorAfterHandling: { status: 502 },
      count: 1,
    });
    const r = await h.call('stop_environment', { app: 'blog', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('looking it up showed it happened');
    expect(textOf(r)).not.toMatch(/try again/i);
    expect(stops()).toHaveLength(1);
  });

  it('a stop whose answer is lost and that does not show yet is "could not tell", never "did not happen"', async () => {
    h = await startHarness({ config: { confirmMode: 'none' }, sandbox: { timings: FAST } });
    h.sandbox.faults.set({ method: 'POST', path: STOP('blog', 'test'), error: { status: 502 }, count: 1 });
    const r = await h.call('stop_environment', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('Could not tell whether stopping blog/test happened');
    expect(textOf(r)).toContain('get_environment (app blog, environment test)');
    expect(textOf(r)).not.toContain('did not happen');
    expect(stops()).toHaveLength(1);
  });
});

describe('stop_environment on an API without the inferred stop path', () => {
  it.each([404, 405] as const)(
    'a %s says the operation is not available there; nothing else breaks',
    async (status) => {
      h = await startHarness({ config: { confirmMode: 'none' }, sandbox: { timings: FAST } });
      h.sandbox.faults.set({ method: 'POST', path: STOP('blog', 'test'), error: { status }, count: 1 });
      const r = await h.call('stop_environment', { app: 'blog', environment: 'test' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(
        'This operation (StopEnvironment) is not available at POST /apps/v3/environments/{uuid}/stop/ on this Divio API',
      );
      expect(textOf(r)).toContain('the rest of the server is unaffected');
      expect(textOf(r)).not.toMatch(/try again/i);
      expect(stops()).toHaveLength(1);
      const env = await h.call('get_environment', { app: 'blog', environment: 'test' });
      expect(env.isError, textOf(env)).toBeFalsy();
      expect(env.structuredContent?.['released_deployment']).not.toBeNull();
    },
  );

  it('a 404 on the inferred commits path leaves get_environment whole and says why the list is missing', async () => {
    h = await startHarness({ sandbox: { timings: FAST } });
    h.sandbox.faults.set({ method: 'GET', path: '/apps/v3/repositories/', error: { status: 404 }, count: 5 });
    const r = await h.call('get_environment', { app: 'blog', environment: 'test' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent?.['pending_commits']).toBe(3);
    expect(r.structuredContent?.['pending_commits_note']).toBe(
      'The commit list could not be read: This operation (GetRepositoryCommits) is not available at GET /apps/v3/repositories/{uuid}/commits/ on this Divio API (HTTP 404); the rest of the server is unaffected.',
    );
  });
});
