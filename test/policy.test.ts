import { afterEach, describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli/args.js';
import { ConfigError } from '../src/mcp/config.js';
import { silentLogger } from '../src/mcp/log.js';
import { EnvironmentPolicy } from '../src/mcp/policy.js';
import { type Harness, type HarnessOptions, startHarness, textOf } from './helpers/harness.js';

// Finding 4 of issue 9: a misspelled policy entry used to match nothing, silently, and the write went through.

const LISTS = [
  ['--read-only-environments', 'DIVIO_MCP_READ_ONLY_ENVIRONMENTS'],
  ['--protected-environments', 'DIVIO_MCP_PROTECTED_ENVIRONMENTS'],
] as const;

/** Each misspelling from the finding (and a few relatives), with what the message must tell the person. */
const MISSPELLINGS: [string, RegExp][] = [
  ['blog/live/', /slash/],
  ['blog / live', /spaces/],
  ['"live"', /quotes/],
  ["'live'", /quotes/],
  ['live;test', /commas/],
  ['live test', /commas/],
  ['blog//live', /one slash/],
  ['/live', /slash/],
  ['live\u202e', /characters/],
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const writes = (x: Harness) => x.sandbox.requestLog.filter((e) => e.method !== 'GET' && e.method !== 'HEAD');

/** A harness whose policy lists come from the CLI parser, as in production. */
async function harnessFromCli(argv: string[], opts: HarnessOptions = {}): Promise<Harness> {
  const { config } = parseCli(argv, {});
  return startHarness({
    ...opts,
    config: {
      readOnlyEnvironments: config.readOnlyEnvironments,
      protectedEnvironments: config.protectedEnvironments,
      ...opts.config,
    },
  });
}

describe('policy lists are validated at start', () => {
  it.each(MISSPELLINGS)(
    '%j refuses to start, naming the entry, the fix and the accepted forms',
    (entry, fix) => {
      for (const [flag, variable] of LISTS) {
        for (const [argv, env, source] of [
          [[flag, `shop/test,${entry}`], {}, flag],
          [[], { [variable]: `shop/test,${entry}` }, variable],
        ] as const) {
          let error: unknown;
          try {
            parseCli([...argv], env);
          } catch (e) {
            error = e;
          }
          expect(error, `${source} ${entry}`).toBeInstanceOf(ConfigError);
          const message = (error as Error).message;
          expect(message).toContain(source);
          expect(message).toMatch(fix);
          expect(message).toContain('app/environment (shop/live');
          expect(message).toContain('an environment ID');
          // The entry is named exactly, invisible characters spelled out.
          expect(message).toContain(JSON.stringify(entry.trim()).replace('\u202e', '\\u202e'));
        }
      }
    },
  );

  it('accepts slugs, app/slug and IDs, trimmed; empty entries are dropped with a notice', () => {
    const o = parseCli(
      ['--read-only-environments', ' live , shop/test ,, efrlmsafhjeb5htwozkc2sgbd4/live,'],
      { DIVIO_MCP_PROTECTED_ENVIRONMENTS: 'api-gateway/staging,0f8fad5b-d9cb-469f-a165-70867728950e' },
    );
    expect(o.config.readOnlyEnvironments).toEqual(['live', 'shop/test', 'efrlmsafhjeb5htwozkc2sgbd4/live']);
    expect(o.config.protectedEnvironments).toEqual([
      'api-gateway/staging',
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    ]);
    expect(o.notices).toEqual([
      '--read-only-environments: ignored 2 empty entries (two commas in a row, or one at the start or end).',
    ]);
    expect(parseCli([], { DIVIO_MCP_READ_ONLY_ENVIRONMENTS: '' }).config.readOnlyEnvironments).toEqual([]);
    expect(parseCli([], {}).notices).toEqual([]);
  });
});

describe('policy entries protect through the MCP client', () => {
  it('<app ID>/live is that application’s live environment: read-only refuses the write', async () => {
    h = await startHarness({ config: { confirmMode: 'none' } });
    const blogId = h.sandbox.state.applicationBySlug('blog')?.uuid ?? '';
    await h.close();
    h = await harnessFromCli(['--read-only-environments', ` ${blogId}/live `], {
      config: { confirmMode: 'none' },
    });
    const args = { name: 'POLICY_CHECK', value: '1' };
    const r = await h.call('set_environment_variable', { app: 'blog', environment: 'live', ...args });
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toContain('read-only');
    expect(writes(h)).toHaveLength(0);
    // Spelled by ID in the call too.
    const byId = await h.call('create_backup', { app: blogId, environment: 'live', wait_seconds: 0 });
    expect(byId.isError, textOf(byId)).toBe(true);
    expect(writes(h)).toHaveLength(0);
    // Other environments of that application, and other applications' live, are not affected.
    const other = await h.call('set_environment_variable', { app: 'blog', environment: 'test', ...args });
    expect(other.isError, textOf(other)).toBeFalsy();
    const shop = await h.call('set_environment_variable', { app: 'shop', environment: 'live', ...args });
    expect(shop.isError, textOf(shop)).toBeFalsy();
    expect(writes(h)).toHaveLength(2);
  });

  it('<app ID>/staging in --protected-environments needs the dialog, as app/slug does', async () => {
    h = await startHarness();
    const gatewayId = h.sandbox.state.applicationBySlug('api-gateway')?.uuid ?? '';
    await h.close();
    h = await harnessFromCli(['--protected-environments', `${gatewayId}/staging`]);
    const r = await h.call('deploy_environment', { app: 'api-gateway', environment: 'staging' });
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toContain('protected');
    const test = await h.call('deploy_environment', { app: 'api-gateway', environment: 'test' });
    expect(test.structuredContent?.['confirmation_required']).toBe(true);
    expect(writes(h)).toHaveLength(0);
  });

  it('an environment ID, and a slug in any case, protect', async () => {
    h = await startHarness();
    const blogTest = h.sandbox.state.environmentBySlug('blog', 'test')?.uuid ?? '';
    await h.close();
    h = await harnessFromCli(['--read-only-environments', `${blogTest},SHOP/TEST`], {
      config: { confirmMode: 'none' },
    });
    for (const app of ['blog', 'shop']) {
      const r = await h.call('delete_environment_variable', { app, environment: 'test', name: 'DEBUG' });
      expect(r.isError, app).toBe(true);
      expect(textOf(r)).toContain('read-only');
    }
    expect(writes(h)).toHaveLength(0);
  });
});

describe('entries that match no environment', () => {
  it('are reported once on stderr at the first call, and returned for a doctor report', async () => {
    h = await startHarness();
    const blogId = h.sandbox.state.applicationBySlug('blog')?.uuid ?? '';
    const shopLive = h.sandbox.state.environmentBySlug('shop', 'live')?.uuid ?? '';
    await h.close();
    const readOnly = ['blog/stage', 'nope', 'live', `${blogId}/test`, 'shop'];
    const protectedEnvs = [shopLive, 'shop/nope', 'staging', '0f8fad5b-d9cb-469f-a165-70867728950e'];
    h = await startHarness({
      config: { readOnlyEnvironments: readOnly, protectedEnvironments: protectedEnvs },
    });
    const warnings = () => h?.logs.filter((l) => l.includes('matches no environment')) ?? [];
    expect(warnings()).toEqual([]);
    await h.call('list_organisations');
    const first = warnings();
    const named = (list: string, entry: string) =>
      first.filter((l) => l.includes(`--${list} entry '${entry}'`)).length;
    expect(first).toHaveLength(5);
    expect(named('read-only-environments', 'blog/stage')).toBe(1);
    expect(named('read-only-environments', 'nope')).toBe(1);
    expect(named('read-only-environments', 'shop')).toBe(1);
    expect(named('protected-environments', 'shop/nope')).toBe(1);
    expect(named('protected-environments', '0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(1);
    expect(first[0]).toMatch(/protects nothing/);
    await h.call('list_applications');
    await h.call('get_environment', { app: 'blog', environment: 'test' });
    expect(warnings()).toEqual(first);

    const policy = new EnvironmentPolicy(h.config, h.divio, silentLogger);
    expect(policy.unmatchedEntries()).toBeNull();
    await policy.check();
    expect(policy.unmatchedEntries()).toEqual([
      { list: 'read-only-environments', entry: 'blog/stage' },
      { list: 'read-only-environments', entry: 'nope' },
      { list: 'read-only-environments', entry: 'shop' },
      { list: 'protected-environments', entry: 'shop/nope' },
      { list: 'protected-environments', entry: '0f8fad5b-d9cb-469f-a165-70867728950e' },
    ]);
  });

  it('a check that cannot reach the API never fails a call and is tried again at the next one', async () => {
    h = await startHarness({ config: { readOnlyEnvironments: ['nope'] } });
    h.sandbox.faults.set({ path: '/apps/v3/environments/', error: { status: 503 } });
    const r = await h.call('list_organisations');
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(h.logs.filter((l) => l.includes('matches no environment'))).toEqual([]);
    h.sandbox.faults.reset();
    await h.call('list_organisations');
    expect(h.logs.filter((l) => l.includes("entry 'nope' matches no environment"))).toHaveLength(1);
  });
});
