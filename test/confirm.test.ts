import { afterEach, describe, expect, it } from 'vitest';
import { canonicalArgs, checkToken, mintToken } from '../src/mcp/confirm.js';
import {
  ERAS,
  type Harness,
  type HarnessOptions,
  startHarness,
  type ToolResult,
  textOf,
} from './helpers/harness.js';

type Args = Record<string, unknown>;

interface WriteCase {
  tool: string;
  /** Arguments for a non-protected target, resolved against the harness (backups need an ID). */
  args: (h: Harness) => Promise<Args>;
  /** The same call with one argument changed. */
  changed: (args: Args) => Args;
  /** The write request this tool makes, as METHOD path-prefix. */
  write: [string, string];
}

async function blogTestBackup(h: Harness): Promise<string> {
  const r = await h.call('list_backups', { app: 'blog', environment: 'test', limit: 20 });
  const backups = (r.structuredContent?.['backups'] ?? []) as {
    uuid: string;
    state: string;
    success: string | null;
  }[];
  const ok = backups.find((b) => b.state === 'COMPLETED' && b.success === 'SUCCESS');
  if (!ok) throw new Error('seed has no successful blog/test backup');
  return ok.uuid;
}

const CASES: WriteCase[] = [
  {
    tool: 'deploy_environment',
    args: async () => ({ app: 'blog', environment: 'test' }),
    changed: (a) => ({ ...a, build_mode: 'FORCE' }),
    write: ['POST', '/apps/v3/deployments/'],
  },
  {
    tool: 'restore_backup',
    args: async (h) => ({ backup: await blogTestBackup(h) }),
    changed: (a) => ({ ...a, services: ['database'] }),
    write: ['POST', '/apps/v3/backup-restores/'],
  },
  {
    tool: 'set_environment_variable',
    args: async () => ({ app: 'blog', environment: 'test', name: 'FEATURE_FLAG', value: 'on' }),
    changed: (a) => ({ ...a, value: 'off' }),
    write: ['POST', '/apps/v3/environment-variables/'],
  },
  {
    tool: 'delete_environment_variable',
    args: async () => ({ app: 'blog', environment: 'test', name: 'ALLOWED_HOSTS' }),
    changed: (a) => ({ ...a, name: 'DEBUG' }),
    write: ['DELETE', '/apps/v3/environment-variables/'],
  },
  {
    tool: 'stop_environment',
    args: async () => ({ app: 'blog', environment: 'test' }),
    changed: (a) => ({ ...a, app: 'marketing-site' }),
    write: ['POST', '/apps/v3/environments/'],
  },
  {
    tool: 'create_backup_download',
    args: async (h) => ({ backup: await blogTestBackup(h) }),
    changed: (a) => ({ ...a, service: 'storage' }),
    write: ['POST', '/apps/v3/backup-downloads/'],
  },
];

function writes(h: Harness): { method: string; path: string }[] {
  return h.sandbox.requestLog.filter((e) => e.method !== 'GET' && e.method !== 'HEAD');
}

function writesOf(h: Harness, [method, prefix]: [string, string]): number {
  return writes(h).filter((e) => e.method === method && e.path.startsWith(prefix)).length;
}

function tokenOf(r: ToolResult): string {
  const token = r.structuredContent?.['confirmation_token'];
  if (typeof token !== 'string') throw new Error(`no confirmation token in: ${textOf(r)}`);
  return token;
}

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(opts);
  return h;
}

describe.each(CASES)('$tool', (c) => {
  describe.each(ERAS)('%s era, person confirms in a dialog', (era) => {
    it('accept runs the write exactly once', async () => {
      await harness({ era, elicit: () => ({ action: 'accept', content: { confirm: true } }) });
      const r = await h.call(c.tool, await c.args(h));
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(h.elicitations).toHaveLength(1);
      expect(writesOf(h, c.write)).toBe(1);
      expect(writes(h)).toHaveLength(1);
      expect(r.structuredContent?.['confirmation_required']).toBe(false);
      expect(r.structuredContent?.['result']).toBeTruthy();
    });

    it.each(['decline', 'cancel'] as const)('%s makes no write', async (action) => {
      await harness({ era, elicit: () => ({ action }) });
      const r = await h.call(c.tool, await c.args(h));
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('did not confirm');
      expect(textOf(r)).toContain('Nothing was changed');
      expect(writes(h)).toHaveLength(0);
    });

    it('an accepted dialog that does not say yes makes no write', async () => {
      await harness({ era, elicit: () => ({ action: 'accept', content: { confirm: false } }) });
      const r = await h.call(c.tool, await c.args(h));
      expect(r.isError).toBe(true);
      expect(writes(h)).toHaveLength(0);
    });
  });

  describe('token flow (client without dialogs)', () => {
    it('previews first, writes only with the token, exactly once', async () => {
      await harness();
      const args = await c.args(h);
      const preview = await h.call(c.tool, args);
      expect(preview.isError).toBeFalsy();
      expect(preview.structuredContent?.['confirmation_required']).toBe(true);
      expect(textOf(preview)).toContain('NOT DONE YET');
      expect(writes(h)).toHaveLength(0);
      const done = await h.call(c.tool, { ...args, confirm: tokenOf(preview) });
      expect(done.isError, textOf(done)).toBeFalsy();
      expect(done.structuredContent?.['confirmation_required']).toBe(false);
      expect(writesOf(h, c.write)).toBe(1);
      expect(writes(h)).toHaveLength(1);
    });

    it('refuses a token with changed arguments', async () => {
      await harness();
      const args = await c.args(h);
      const token = tokenOf(await h.call(c.tool, args));
      const r = await h.call(c.tool, { ...c.changed(args), confirm: token });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/different arguments|no longer matches/);
      expect(writes(h)).toHaveLength(0);
    });

    it('refuses a reused token', async () => {
      await harness();
      const args = await c.args(h);
      const token = tokenOf(await h.call(c.tool, args));
      expect((await h.call(c.tool, { ...args, confirm: token })).isError).toBeFalsy();
      const again = await h.call(c.tool, { ...args, confirm: token });
      expect(again.isError).toBe(true);
      expect(writes(h)).toHaveLength(1);
    });

    it('refuses an expired token', async () => {
      await harness();
      const args = await c.args(h);
      const expired = mintToken(
        h.config.confirmKey,
        c.tool,
        canonicalArgs(args),
        'whatever',
        Date.now() - 1000,
      );
      const r = await h.call(c.tool, { ...args, confirm: expired });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('expired');
      expect(writes(h)).toHaveLength(0);
    });

    it('refuses a forged token', async () => {
      await harness();
      const args = await c.args(h);
      const real = tokenOf(await h.call(c.tool, args));
      const forged = `${real.slice(0, -4)}AAAA`;
      for (const token of [forged, 'v1.9999999999.aaaa.bbbb.cccc', 'yes', 'true']) {
        const r = await h.call(c.tool, { ...args, confirm: token });
        expect(r.isError).toBe(true);
        expect(textOf(r)).toContain('not issued by this server');
      }
      expect(writes(h)).toHaveLength(0);
    });

    it('a token minted with another key is refused', async () => {
      await harness();
      const args = await c.args(h);
      const other = new Uint8Array(32).fill(7);
      const token = mintToken(other, c.tool, canonicalArgs(args), 'x', Date.now() + 60_000);
      const r = await h.call(c.tool, { ...args, confirm: token });
      expect(r.isError).toBe(true);
      expect(writes(h)).toHaveLength(0);
    });
  });

  it('mode none writes without asking; read-only environments refuse even then', async () => {
    await harness({ config: { confirmMode: 'none' } });
    const r = await h.call(c.tool, await c.args(h));
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(writesOf(h, c.write)).toBe(1);
    await h.close();
    await harness({ config: { confirmMode: 'none', readOnlyEnvironments: ['blog/test'] } });
    const refused = await h.call(c.tool, await c.args(h));
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('read-only');
    expect(writes(h)).toHaveLength(0);
  });
});

describe('environment policy and modes', () => {
  it('auto mode refuses a protected environment when the client cannot show a dialog', async () => {
    await harness();
    for (const [tool, args] of [
      ['deploy_environment', { app: 'shop', environment: 'live' }],
      ['set_environment_variable', { app: 'shop', environment: 'live', name: 'DEBUG', value: 'True' }],
      ['delete_environment_variable', { app: 'blog', environment: 'live', name: 'DEBUG' }],
    ] as const) {
      const r = await h.call(tool, args);
      expect(r.isError, tool).toBe(true);
      expect(textOf(r)).toContain('protected');
      expect(textOf(r)).toContain('--confirm-mode token');
    }
    expect(writes(h)).toHaveLength(0);
  });

  it('--protected-environments adds non-live environments to the protected list', async () => {
    await harness({ config: { protectedEnvironments: ['api-gateway/staging'] } });
    const r = await h.call('deploy_environment', { app: 'api-gateway', environment: 'staging' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('protected');
    const other = await h.call('deploy_environment', { app: 'api-gateway', environment: 'test' });
    expect(other.structuredContent?.['confirmation_required']).toBe(true);
    expect(writes(h)).toHaveLength(0);
  });

  it('protected environments still get the dialog in auto mode', async () => {
    await harness({ era: 'legacy', elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    const r = await h.call('set_environment_variable', {
      app: 'shop',
      environment: 'live',
      name: 'DEBUG',
      value: 'True',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(h.elicitations[0]?.message).toContain('PRODUCTION');
    expect(writes(h)).toHaveLength(1);
  });

  it('token mode lets the person allow protected environments by token, even with a dialog-capable client', async () => {
    await harness({
      config: { confirmMode: 'token' },
      elicit: () => ({ action: 'accept', content: { confirm: true } }),
    });
    const args = { app: 'shop', environment: 'live', name: 'DEBUG', value: 'True' };
    const preview = await h.call('set_environment_variable', args);
    expect(h.elicitations).toHaveLength(0);
    expect(writes(h)).toHaveLength(0);
    const done = await h.call('set_environment_variable', { ...args, confirm: tokenOf(preview) });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(writes(h)).toHaveLength(1);
  });

  it('elicit mode fails closed when the client cannot show a dialog', async () => {
    await harness({ config: { confirmMode: 'elicit' } });
    const r = await h.call('deploy_environment', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('cannot show one');
    expect(writes(h)).toHaveLength(0);
  });

  it('a token is never accepted in place of the dialog when the client can show one', async () => {
    await harness({ elicit: () => ({ action: 'decline' }) });
    const args = { app: 'blog', environment: 'test' };
    const token = mintToken(
      h.config.confirmKey,
      'deploy_environment',
      canonicalArgs(args),
      'x',
      Date.now() + 60_000,
    );
    const r = await h.call('deploy_environment', { ...args, confirm: token });
    expect(r.isError).toBe(true);
    expect(writes(h)).toHaveLength(0);
  });

  it('read-only mode hides every write tool', async () => {
    await harness({ config: { readOnly: true } });
    const names = (await h.mcp.listTools()).tools.map((t) => t.name);
    for (const c of CASES) expect(names).not.toContain(c.tool);
    expect(names).toContain('list_backups');
  });
});

describe('sensitive values and audit', () => {
  it('never shows a sensitive value in the preview, the dialog, the result or the audit line', async () => {
    await harness({ era: 'legacy', elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    const real = [...h.sandbox.state.environmentVariables.values()]
      .filter((v) => v.is_sensitive)
      .map((v) => v.value);
    const r = await h.call('set_environment_variable', {
      app: 'shop',
      environment: 'test',
      name: 'SECRET_KEY',
      value: 'brand-new-secret-value',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const everything = JSON.stringify([r, h.elicitations, h.logs]);
    for (const secret of [...real, 'brand-new-secret-value']) expect(everything).not.toContain(secret);
    expect(h.elicitations[0]?.message).toContain('[sensitive: hidden]');
  });

  it('writes one structured audit line per write', async () => {
    await harness({ config: { confirmMode: 'none' } });
    const r = await h.call('deploy_environment', { app: 'blog', environment: 'test' });
    const uuid = ((r.structuredContent?.['result'] ?? {}) as { deployment: { uuid: string } }).deployment
      .uuid;
    const audits = h.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['type'] === 'audit');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      tool: 'deploy_environment',
      app: 'blog',
      environment: 'test',
      outcome: 'ok',
      uuid,
    });
    expect(typeof audits[0]?.['time']).toBe('string');
  });
});

describe('tokens', () => {
  it('bind tool, arguments and state', () => {
    const key = new Uint8Array(32).fill(1);
    const args = canonicalArgs({ b: 1, a: [2, { d: 1, c: 2 }], confirm: 'x', wait_seconds: 5 });
    expect(args).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
    const token = mintToken(key, 'tool', args, 'state-1', Date.now() + 60_000);
    expect(checkToken(key, token, 'tool', args, 'state-1')).toEqual({ ok: true });
    expect(checkToken(key, token, 'other_tool', args, 'state-1')).toEqual({ ok: false, reason: 'forged' });
    expect(checkToken(key, token, 'tool', '{}', 'state-1')).toEqual({ ok: false, reason: 'arguments' });
    expect(checkToken(key, token, 'tool', args, 'state-2')).toEqual({ ok: false, reason: 'state' });
    expect(checkToken(key, token, 'tool', args, 'state-1', Date.now() + 120_000)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });
});
