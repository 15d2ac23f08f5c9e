import { afterEach, describe, expect, it } from 'vitest';
import { uuidFromName } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

// Lists the server reads whole follow `next` to the end, whatever page size the API chooses, and say so when
// a list is longer than the page cap. The sandbox here answers one object per page.

let h: Harness;
afterEach(async () => h?.close());

describe('whole-list reads with one object per page', () => {
  it('list_applications finds an organisation that is not on the first page of organisations', async () => {
    h = await startHarness({ sandbox: { maxPageSize: 1 } });
    const orgs = [...h.sandbox.state.organisations.values()];
    const last = orgs.at(-1);
    if (!last || orgs.length < 2) throw new Error('the seed needs two organisations');
    const r = await h.call('list_applications', { organisation: last.name });
    expect(r.isError, textOf(r)).toBeFalsy();
    const orgLists = h.sandbox.requestLog.filter(
      (e) => e.method === 'GET' && e.path === '/iam/v3/organisations/',
    );
    expect(orgLists.length).toBeGreaterThanOrEqual(orgs.length);
  });

  it('set_environment_variable finds the existing variable on a later page and updates it (no duplicate)', async () => {
    h = await startHarness({ sandbox: { maxPageSize: 1 }, config: { confirmMode: 'none' } });
    const env = uuidFromName('environment:blog/test');
    const vars = [...h.sandbox.state.environmentVariables.values()].filter(
      (v) => v.environment === env && !v.is_sensitive,
    );
    const target = vars.at(-1);
    if (!target || vars.length < 2) throw new Error('the seed needs two variables on blog/test');
    const r = await h.call('set_environment_variable', {
      app: 'blog',
      environment: 'test',
      name: target.name,
      value: 'changed-by-test',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const writes = h.sandbox.requestLog.filter((e) => e.method !== 'GET');
    expect(writes.map((w) => w.method)).not.toContain('POST');
    expect(writes).toHaveLength(1);
    const same = [...h.sandbox.state.environmentVariables.values()].filter(
      (v) => v.environment === env && v.name === target.name,
    );
    expect(same).toHaveLength(1);
    expect(same[0]?.value).toBe('changed-by-test');
  });
});
