import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidFromName } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

type Row = {
  uuid: string;
  at: string;
  type: string;
  user: string;
  environment: string | null;
  description: string;
};
type Out = { activities: Row[]; has_more: boolean; next_cursor: string | null };

describe('list_activities: who did what', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('who changed what on api-gateway yesterday: the variable change with its user, newest first', async () => {
    const r = await h.call('list_activities', { app: 'api-gateway', since: '2d' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as Out;
    const change = out.activities.find((a) => a.type === 'environment_variable_update');
    expect(change).toMatchObject({
      user: 'Kim Lee',
      environment: 'live',
      description: 'Changed UPSTREAM_TIMEOUT_SECONDS',
    });
    const times = out.activities.map((a) => Date.parse(a.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    for (const t of times)
      expect(t).toBeGreaterThanOrEqual(h.sandbox.state.startedAt - 2 * 86_400_000 - 5_000);
    expect(out.has_more).toBe(false);
    expect(textOf(r)).toContain('Kim Lee');
  });

  it('filters by type and user through the API and pages with a cursor', async () => {
    h.sandbox.clearRequestLog();
    const r = await h.call('list_activities', { app: 'shop', type: 'deployment', limit: 2 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const first = r.structuredContent as Out;
    expect(first.activities).toHaveLength(2);
    expect(first.activities.every((a) => a.type === 'deployment')).toBe(true);
    expect(first.has_more).toBe(true);
    const sent = h.sandbox.requestLog.find((e) => e.path === '/apps/v3/application-activities/');
    expect(sent?.query).toMatchObject({ application: uuidFromName('application:shop'), type: 'deployment' });
    const next = await h.call('list_activities', {
      app: 'shop',
      type: 'deployment',
      limit: 2,
      cursor: first.next_cursor,
    });
    const second = next.structuredContent as Out;
    expect(second.activities[0]?.uuid).not.toBe(first.activities[0]?.uuid);
    expect(Date.parse(second.activities[0]?.at ?? '')).toBeLessThanOrEqual(
      Date.parse(first.activities[1]?.at ?? ''),
    );
    const byUser = await h.call('list_activities', { app: 'shop', user: 'Alex Rivera' });
    const rows = (byUser.structuredContent as Out).activities;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((a) => a.user === 'Alex Rivera')).toBe(true);
  });

  it('the sandbox records the backups, deploys and variable changes it performs, names only', async () => {
    const backup = await h.call('create_backup', { app: 'blog', environment: 'test', wait_seconds: 0 });
    expect(backup.isError, textOf(backup)).toBeFalsy();
    // A second later (simulated time stands still otherwise), a variable is created.
    await h.clock.advance(1_000);
    const env = uuidFromName('environment:blog/test');
    const post = await fetch(`${h.sandbox.url}/apps/v3/environment-variables/`, {
      method: 'POST',
      headers: { Authorization: `Token ${h.sandbox.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        environment: env,
        name: 'FEATURE_FLAG',
        value: 'very-secret-value-42',
        is_sensitive: true,
      }),
    });
    expect(post.status).toBe(201);
    const r = await h.call('list_activities', { app: 'blog', since: '5m' });
    const rows = (r.structuredContent as Out).activities;
    expect(rows.map((a) => [a.type, a.user, a.environment])).toEqual([
      ['environment_variable_create', 'Sandy Box', 'test'],
      ['backup', 'Sandy Box', 'test'],
    ]);
    expect(JSON.stringify(r)).not.toContain('very-secret-value-42');
  });
});
