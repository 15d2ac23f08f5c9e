import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import { type Sandbox, startSandbox, uuidFromName } from '../src/sandbox/index.js';

// The sandbox's rollback, promote, stop and pending-commit behaviour (CreateDeployment with adopt_deployment or
// copy_from, StopEnvironment, GetRepositoryCommits), through the real client, on a fake clock.

type Json = Record<string, unknown>;

let sb: Sandbox;
let client: DivioClient;
let clock = Date.UTC(2026, 5, 1, 9, 0, 0);
const DEPLOY_MS = 200;
const finishDeploy = () => {
  clock += DEPLOY_MS + 1;
};

const env = (app: string, slug: string) => uuidFromName(`environment:${app}/${slug}`);
const repo = (app: string) => uuidFromName(`repository:${app}`);
const get = (id: string) => client.environments.get(id);

beforeAll(async () => {
  sb = await startSandbox({
    now: () => clock,
    timings: { deployMs: DEPLOY_MS, backupMs: 200, restoreMs: 200, downloadMs: 100 },
  });
  client = new DivioClient({ baseUrl: sb.url, token: sb.token, retry: { maxRetries: 0 } });
});
afterAll(async () => {
  await client.close();
  await sb.close();
});

describe('sandbox: pending commits', () => {
  it('lists the commits of pending_commits_lookup, newest first, and a deploy of the branch resets them', async () => {
    const before = await get(env('blog', 'test'));
    expect(before.pending_commit_count).toBe(3);
    expect(before.has_pending_commits).toBe(true);
    const lookup = String(before.pending_commits_lookup);
    expect(lookup).toMatch(/^[0-9a-f]{40}\.\.develop$/);
    const { commits } = await client.repositories.commits(repo('blog'), lookup);
    expect(commits).toHaveLength(3);
    for (const c of commits) {
      expect(c.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(c.message).toEqual(expect.any(String));
      expect(c.author_name).toEqual(expect.any(String));
      expect(c.author_email).toContain('@');
    }
    const dates = commits.map((c) => Date.parse(String(c.date)));
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);
    // The released commit is the one the range starts from, and it is not in the range.
    expect(commits.map((c) => c.sha)).not.toContain(lookup.split('..')[0]);

    const d = await client.deployments.create({ environment: env('blog', 'test') });
    finishDeploy();
    expect((await client.deployments.get(d.uuid)).git_commit).toBe(commits[0]?.sha);
    const after = await get(env('blog', 'test'));
    expect(after.pending_commit_count).toBe(0);
    expect(after.has_pending_commits).toBe(false);
    expect(after.pending_commits_lookup).toBe(`${commits[0]?.sha}..develop`);
    expect(
      (await client.repositories.commits(repo('blog'), String(after.pending_commits_lookup))).commits,
    ).toEqual([]);
  });

  it('shop/live has the failed deployment commit pending', async () => {
    const live = await get(env('shop', 'live'));
    expect(live.pending_commit_count).toBe(1);
    const failed = await client.deployments.get(uuidFromName('deployment:shop/live:failed'));
    const { commits } = await client.repositories.commits(repo('shop'), String(live.pending_commits_lookup));
    expect(commits.map((c) => c.sha)).toEqual([failed.git_commit]);
  });

  it('refuses a missing or unknown range and an unknown repository', async () => {
    await expect(client.repositories.commits(repo('blog'), 'abc1234..no-such-branch')).rejects.toMatchObject({
      status: 400,
    });
    await expect(client.repositories.commits(uuidFromName('repository:nope'), 'a..b')).rejects.toMatchObject({
      status: 404,
    });
    const res = await fetch(`${sb.url}/apps/v3/repositories/${repo('blog')}/commits/`, {
      headers: { Authorization: `Token ${sb.token}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json)['lookup']).toEqual(['This field is required.']);
  });
});

describe('sandbox: rollback and promote', () => {
  it('adopt_deployment reuses an earlier successful image and serves its commit (shop/live rolls back)', async () => {
    const live = await get(env('shop', 'live'));
    const released = live.currently_released_deployment;
    const list = await client.deployments.list({ environment: env('shop', 'live'), is_success: true });
    const older = list.results[1];
    expect(older && older.uuid !== released?.uuid).toBe(true);
    const d = await client.deployments.create({
      environment: env('shop', 'live'),
      adopt_deployment: older?.uuid,
    });
    expect(d).toMatchObject({ adopt_deployment: older?.uuid, git_commit: older?.git_commit, success: null });
    finishDeploy();
    // shop/live's builds fail, but an adopted image is not built: it succeeds
    expect((await client.deployments.get(d.uuid)).success).toBe(true);
    const log = await client.deployments.logs(d.uuid);
    expect(log.logs).toContain(`Reusing the image of deployment ${older?.uuid}`);
    const after = await get(env('shop', 'live'));
    expect(after.currently_released_deployment?.uuid).toBe(d.uuid);
    // An older release has more commits pending on its branch.
    expect(after.pending_commit_count).toBeGreaterThan(1);
  });

  it('refuses to adopt a failed, unknown or foreign deployment', async () => {
    const failed = uuidFromName('deployment:shop/live:failed');
    await expect(
      client.deployments.create({ environment: env('shop', 'live'), adopt_deployment: failed }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      client.deployments.create({
        environment: env('shop', 'live'),
        adopt_deployment: uuidFromName('deployment:blog/live:0'),
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      client.deployments.create({ environment: env('shop', 'live'), adopt_deployment: uuidFromName('x') }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('copy_from releases what the other environment serves (promote test to live)', async () => {
    const test = await get(env('api-gateway', 'test'));
    const d = await client.deployments.create({
      environment: env('api-gateway', 'live'),
      copy_from: env('api-gateway', 'test'),
    });
    expect(d.copy_from).toBe(env('api-gateway', 'test'));
    expect(d.git_commit).toBe(test.currently_released_deployment?.git_commit);
    finishDeploy();
    const live = await get(env('api-gateway', 'live'));
    expect(live.currently_released_deployment?.uuid).toBe(d.uuid);
    expect(live.pending_commits_lookup).toBe(`${d.git_commit}..main`);
  });

  it('refuses to copy from itself or from another application', async () => {
    for (const from of [env('api-gateway', 'live'), env('blog', 'test')]) {
      await expect(
        client.deployments.create({ environment: env('api-gateway', 'live'), copy_from: from }),
      ).rejects.toMatchObject({ status: 400 });
    }
  });
});

describe('sandbox: stop', () => {
  it('stops an environment (nothing released, no URL) until a deployment succeeds again', async () => {
    const id = env('marketing-site', 'test');
    const before = await get(id);
    expect(before.currently_released_deployment).not.toBeNull();
    const res = await fetch(`${sb.url}/apps/v3/environments/${id}/stop/`, {
      method: 'POST',
      headers: { Authorization: `Token ${sb.token}` },
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    const stopped = await get(id);
    expect(stopped.currently_released_deployment).toBeNull();
    expect(stopped.deployed_url).toBeNull();
    expect(stopped.last_finished_deployment?.uuid).toBe(before.last_finished_deployment?.uuid);
    // What a deploy would start from is unchanged.
    expect(stopped.pending_commits_lookup).toBe(before.pending_commits_lookup);
    await expect(client.environments.stop(id)).rejects.toMatchObject({ status: 400 });

    const d = await client.deployments.create({ environment: id });
    finishDeploy();
    const started = await get(id);
    expect(started.currently_released_deployment?.uuid).toBe(d.uuid);
    expect(started.deployed_url).toEqual(expect.any(String));
  });

  it('refuses to stop while a deployment runs, and answers 404 for an unknown environment', async () => {
    const id = env('marketing-site', 'live');
    await client.deployments.create({ environment: id });
    await expect(client.environments.stop(id)).rejects.toMatchObject({ status: 400 });
    finishDeploy();
    await expect(client.environments.stop(uuidFromName('environment:none/none'))).rejects.toMatchObject({
      status: 404,
    });
    await client.environments.stop(id);
    expect((await get(id)).currently_released_deployment).toBeNull();
  });
});
