import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../src/sandbox/index.js';
import { FakeClock } from './helpers/clock.js';
import { type Harness, startHarness, type ToolResult, textOf } from './helpers/harness.js';

// Every write tool, when Divio's answer to its write is lost, unreadable or a 5xx: the write is looked up
// before answering, sent exactly once, and the answer says which of done / not done / could not tell it is.

let h: Harness;
afterEach(async () => h?.close());

const TIMINGS = { deployMs: 150, backupMs: 100, restoreMs: 100, downloadMs: 100 };

async function harness(): Promise<Harness> {
  h = await startHarness({ config: { confirmMode: 'none' }, sandbox: { timings: TIMINGS } });
  return h;
}

async function blogTest(x: Harness): Promise<string> {
  return (await x.divio.resolveEnvironment(await x.divio.resolveApplication('blog'), 'test')).uuid;
}

async function goodBackup(x: Harness): Promise<string> {
  const env = await blogTest(x);
  const s = x.sandbox.state;
  const b = [...s.backups.values()].find(
    (b) => b.environment === env && s.backupState(b) === 'COMPLETED' && b.outcome === 'SUCCESS',
  );
  if (!b) throw new Error('the sandbox seed has no successful blog/test backup');
  return b.uuid;
}

function variable(x: Harness, env: string, name: string) {
  return [...x.sandbox.state.environmentVariables.values()].find(
    (v) => v.environment === env && v.name === name,
  );
}

interface Case {
  tool: string;
  /** The write request: its method and path prefix. */
  method: 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** The list the lookup reads. */
  lookup: string;
  /** What the tool names the handle: "it happened: <kind> <handle>". */
  kind: string;
  /** The read tool the "could not tell" answer names. */
  checkWith: string;
  /** Puts the sandbox back into the state the case starts from (tests of a case share one sandbox). */
  prepare?: (x: Harness) => Promise<void>;
  args: (x: Harness) => Promise<Record<string, unknown>>;
  /** The handles of what the write created or changed in the sandbox since `t0` (empty when it did not land). */
  effects: (x: Harness, t0: number) => Promise<string[]>;
}

const NEW_VALUE = 'changed-by-write-outcome-test';

const CASES: Case[] = [
  {
    tool: 'deploy_environment',
    method: 'POST',
    path: '/apps/v3/deployments/',
    lookup: '/apps/v3/deployments/',
    kind: 'deployment',
    checkWith: 'list_deployments',
    args: async () => ({ app: 'blog', environment: 'test' }),
    effects: async (x, t0) => {
      const env = await blogTest(x);
      return [...x.sandbox.state.deployments.values()]
        .filter((d) => d.environment === env && d.startedMs >= t0)
        .map((d) => d.uuid);
    },
  },
  {
    tool: 'create_backup',
    method: 'POST',
    path: '/apps/v3/backups/',
    lookup: '/apps/v3/backups/',
    kind: 'backup',
    checkWith: 'list_backups',
    args: async () => ({ app: 'blog', environment: 'test', services: ['database'] }),
    effects: async (x, t0) => {
      const env = await blogTest(x);
      return [...x.sandbox.state.backups.values()]
        .filter((b) => b.environment === env && b.createdMs >= t0)
        .map((b) => b.uuid);
    },
  },
  {
    tool: 'restore_backup',
    method: 'POST',
    path: '/apps/v3/backup-restores/',
    lookup: '/apps/v3/backup-restores/',
    kind: 'restore',
    checkWith: 'get_environment',
    args: async (x) => ({ backup: await goodBackup(x), services: ['database'] }),
    effects: async (x, t0) =>
      [...x.sandbox.state.backupRestores.values()].filter((r) => r.createdMs >= t0).map((r) => r.uuid),
  },
  {
    tool: 'create_backup_download',
    method: 'POST',
    path: '/apps/v3/backup-downloads/',
    lookup: '/apps/v3/backup-download-service-instances/',
    kind: 'download',
    checkWith: 'list_backups',
    args: async (x) => ({ backup: await goodBackup(x), service: 'database' }),
    effects: async (x, t0) =>
      [...x.sandbox.state.backupDownloads.values()].filter((d) => d.createdMs >= t0).map((d) => d.uuid),
  },
  {
    tool: 'set_environment_variable',
    method: 'PATCH',
    path: '/apps/v3/environment-variables/',
    lookup: '/apps/v3/environment-variables/',
    kind: 'variable',
    checkWith: 'list_environment_variables',
    // A new value per call, so a value set by an earlier test never looks like this call's write.
    args: async () => ({ app: 'blog', environment: 'test', name: 'DEBUG', value: `${NEW_VALUE}-${++calls}` }),
    effects: async (x) => {
      const v = variable(x, await blogTest(x), 'DEBUG');
      return v && v.value === `${NEW_VALUE}-${calls}` ? [v.uuid] : [];
    },
  },
  {
    tool: 'set_environment_variable',
    method: 'POST',
    path: '/apps/v3/environment-variables/',
    lookup: '/apps/v3/environment-variables/',
    kind: 'variable',
    checkWith: 'list_environment_variables',
    prepare: async (x) => {
      const v = variable(x, await blogTest(x), 'FEATURE_FLAG_NEW');
      if (v) x.sandbox.state.environmentVariables.delete(v.uuid);
    },
    args: async () => ({ app: 'blog', environment: 'test', name: 'FEATURE_FLAG_NEW', value: NEW_VALUE }),
    effects: async (x) => {
      const v = variable(x, await blogTest(x), 'FEATURE_FLAG_NEW');
      return v ? [v.uuid] : [];
    },
  },
  {
    tool: 'delete_environment_variable',
    method: 'DELETE',
    path: '/apps/v3/environment-variables/',
    lookup: '/apps/v3/environment-variables/',
    kind: 'variable',
    checkWith: 'list_environment_variables',
    prepare: async (x) => {
      // The seed's DEBUG, put back before every test.
      const env = await blogTest(x);
      const seeded = seededDebug.get(x) ?? { ...(variable(x, env, 'DEBUG') as SandboxVariable) };
      seededDebug.set(x, seeded);
      x.sandbox.state.environmentVariables.set(seeded.uuid, { ...seeded });
    },
    args: async () => ({ app: 'blog', environment: 'test', name: 'DEBUG' }),
    effects: async (x) => {
      const seeded = seededDebug.get(x);
      // Gone means the deletion landed.
      return seeded && !variable(x, await blogTest(x), 'DEBUG') ? [seeded.uuid] : [];
    },
  },
];

type SandboxVariable = NonNullable<ReturnType<Harness['sandbox']['state']['environmentVariables']['get']>>;

/** blog/test's DEBUG variable as seeded, per harness. */
const seededDebug = new WeakMap<Harness, SandboxVariable>();
let calls = 0;

const writesSent = (x: Harness) => x.sandbox.requestLog.filter((e) => e.method !== 'GET');

function audits(x: Harness): Record<string, unknown>[] {
  return x.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['type'] === 'audit');
}

async function run(x: Harness, c: Case, fault: FaultRule): Promise<{ r: ToolResult; t0: number }> {
  x.sandbox.faults.reset();
  x.logs.length = 0;
  await c.prepare?.(x);
  const args = await c.args(x);
  x.sandbox.clearRequestLog();
  x.sandbox.faults.set({ method: c.method, path: c.path, count: 1, ...fault });
  const t0 = x.clock.now();
  const r = await x.call(c.tool, args);
  return { r, t0 };
}

const LANDS: [string, FaultRule][] = [
  ['lost (connection reset after handling)', { resetAfterHandling: true }],
  ['unreadable (2xx with a truncated body)', { malformedJson: true }],
  ['502 after handling', { errorAfterHandling: { status: 502 } }],
];

// The tests of a case share one sandbox and run in order: the write that does not land comes first (nothing of
// its kind was written moments before it), the one whose lookup fails and leaves its write running comes last.
describe.each(CASES)('$tool ($method)', (c) => {
  let x: Harness;
  beforeAll(async () => {
    x = await startHarness({ config: { confirmMode: 'none' }, sandbox: { timings: TIMINGS } });
  });
  afterAll(async () => x?.close());

  it('a 502 before handling: looked up, says it did not happen, writes once', async () => {
    const { r, t0 } = await run(x, c, { error: { status: 502 } });
    const text = textOf(r);
    expect(r.isError).toBe(true);
    expect(text).toContain('did not happen');
    expect(text).toContain('Nothing was changed');
    expect(text).not.toMatch(/try again|after retries/i);
    expect(writesSent(x)).toHaveLength(1);
    expect(await c.effects(x, t0)).toEqual([]);
    // The lookup ran after the write.
    const log = x.sandbox.requestLog;
    const write = log.findIndex((e) => e.method !== 'GET');
    expect(log.slice(write + 1).some((e) => e.method === 'GET' && e.path.startsWith(c.lookup))).toBe(true);
    expect(audits(x)).toEqual([
      expect.objectContaining({ tool: c.tool, outcome: 'error', write: 'not_done', uuid: null }),
    ]);
  });

  it.each(LANDS)('%s: says it happened, with the handle, and writes once', async (_label, fault) => {
    const { r, t0 } = await run(x, c, fault);
    const text = textOf(r);
    expect(r.isError, text).toBeFalsy();
    expect(writesSent(x)).toHaveLength(1);
    const effects = await c.effects(x, t0);
    expect(effects).toHaveLength(1);
    const handle = effects[0] as string;
    expect(text).toContain(`it happened: ${c.kind} ${handle}`);
    expect(text).not.toMatch(/try again|failed/i);
    expect(audits(x)).toEqual([
      expect.objectContaining({ tool: c.tool, outcome: 'ok', write: 'done', uuid: handle }),
    ]);
  });

  it('the lookup fails too: says it could not tell and names the tool to check with', async () => {
    const { r } = await run(x, c, {
      errorAfterHandling: { status: 502 },
      afterwards: [{ method: 'GET', path: c.lookup, error: { status: 503 } }],
    });
    const text = textOf(r);
    expect(r.isError).toBe(true);
    expect(text).toContain('Could not tell whether');
    expect(text).toContain(`Check with ${c.checkWith}`);
    expect(text).toContain('before trying again');
    expect(writesSent(x)).toHaveLength(1);
    expect(audits(x)).toEqual([
      expect.objectContaining({ tool: c.tool, outcome: 'error', write: 'unknown' }),
    ]);
  });
});

describe('after the lookup found the write', () => {
  it('deploy_environment keeps waiting for the deployment it found, to the end', async () => {
    const { r } = await run(await harness(), CASES[0] as Case, { errorAfterHandling: { status: 502 } });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as { finished: boolean; deployment: { success: boolean } };
    expect(result.finished).toBe(true);
    expect(result.deployment.success).toBe(true);
  });

  it('create_backup_download still hands over the URL of the download it found', async () => {
    const { r } = await run(await harness(), CASES[3] as Case, { resetAfterHandling: true });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as { download_url: string | null };
    expect(result.download_url).toContain('/_storage/');
  });
});

describe('a failure after the write landed', () => {
  it('never reads as if nothing happened: it names the handle and says not to start it again', async () => {
    const x = await harness();
    const backup = await goodBackup(x);
    x.sandbox.faults.set({
      method: 'POST',
      path: '/apps/v3/backup-downloads/',
      count: 1,
      afterwards: [
        { method: 'GET', path: '/apps/v3/backup-download-service-instances/', error: { status: 503 } },
      ],
    });
    const t0 = x.clock.now();
    const r = await x.call('create_backup_download', { backup, service: 'database' });
    const [download] = await (CASES[3] as Case).effects(x, t0);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      new RegExp(`^The write itself happened: ${download}\\. Do not start it again\\.`),
    );
    // The advice for the failed read after it points to a read tool, never to calling the write again.
    expect(textOf(r)).not.toMatch(/try again/i);
    expect(textOf(r)).toContain('check with list_backups');
    expect(textOf(r)).toContain('Do not call create_backup_download again for it.');
    expect(audits(x)).toEqual([expect.objectContaining({ outcome: 'error', write: 'done', uuid: download })]);
  });

  it('a failed deploy whose log cannot be read is still a result with its handle', async () => {
    const x = await harness();
    x.sandbox.faults.set({
      method: 'GET',
      path: '/apps/v3/deployments/',
      pathContains: '/logs',
      error: { status: 500 },
    });
    const r = await x.call('deploy_environment', { app: 'shop', environment: 'live' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = r.structuredContent?.['result'] as {
      deployment: { uuid: string; success: boolean };
      failure_excerpt: string[] | null;
      next_step: string;
    };
    expect(result.deployment.success).toBe(false);
    expect(result.failure_excerpt).toBeNull();
    expect(result.next_step).toContain(`get_deployment_log with deployment=${result.deployment.uuid}`);
    expect(x.sandbox.requestLog.some((e) => e.path.includes('/logs') && e.status === 500)).toBe(true);
  });
});

describe("Divio's clock", () => {
  it('is what "since the call" is measured in: a sandbox an hour behind still finds the write', async () => {
    const clock = new FakeClock();
    h = await startHarness({
      clock,
      config: { confirmMode: 'none' },
      sandbox: { timings: TIMINGS, now: () => clock.now() - 3_600_000 },
    });
    h.sandbox.faults.set({
      method: 'POST',
      path: '/apps/v3/backups/',
      count: 1,
      errorAfterHandling: { status: 502 },
    });
    const r = await h.call('create_backup', { app: 'blog', environment: 'test', services: ['database'] });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as { backup: { uuid: string } };
    expect(textOf(r)).toContain(`it happened: backup ${out.backup.uuid}`);
  });
});

describe('an earlier write of the same kind', () => {
  it('is not mistaken for this one: a backup taken seconds before is not "it happened"', async () => {
    let ahead = 0;
    const clock = new FakeClock();
    h = await startHarness({
      clock,
      config: { confirmMode: 'none' },
      sandbox: { timings: TIMINGS, now: () => clock.now() + ahead },
    });
    const first = await h.call('create_backup', { app: 'blog', environment: 'test', services: ['database'] });
    expect(first.isError, textOf(first)).toBeFalsy();
    const earlier = (first.structuredContent as { backup: { uuid: string } }).backup.uuid;
    // Ten seconds pass at Divio; the next backup's POST fails before Divio handled it.
    ahead = 10_000;
    h.sandbox.faults.set({ method: 'POST', path: '/apps/v3/backups/', count: 1, error: { status: 502 } });
    const r = await h.call('create_backup', { app: 'blog', environment: 'test', services: ['database'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('The backup of blog/test did not happen');
    expect(textOf(r)).not.toContain(earlier);
  });
});

describe('a write whose answer came too late', () => {
  async function timedOut(fault: FaultRule): Promise<ToolResult> {
    h = await startHarness({
      config: { confirmMode: 'none' },
      // The sandbox's delay runs on a clock nobody advances: it outlasts the client's (real) timeout for sure.
      sandbox: { timings: TIMINGS, clock: new FakeClock({ auto: false }) },
      clientTimeoutMs: 500,
    });
    h.sandbox.faults.set({ method: 'POST', path: '/apps/v3/backups/', count: 1, ...fault });
    // No wait after the write: the backup cannot finish on the sandbox's stopped clock, so a wait would poll it
    // (a real request every simulated 50 ms) until its whole budget had gone by.
    return h.call('create_backup', {
      app: 'blog',
      environment: 'test',
      services: ['database'],
      wait_seconds: 0,
    });
  }

  it('handled, but its answer outlasted the timeout: it happened', async () => {
    const r = await timedOut({ slowBody: { durationMs: 4_000, chunks: 4 } });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as { backup: { uuid: string } };
    expect(textOf(r)).toContain(
      `(no answer came in time); looking it up showed it happened: backup ${out.backup.uuid}`,
    );
    expect(writesSent(h)).toHaveLength(1);
  });

  it('not handled yet when the timeout hit: could not tell, Divio may still be handling it', async () => {
    const r = await timedOut({ latencyMs: 4_000 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('Could not tell whether the backup of blog/test happened');
    expect(textOf(r)).toContain('Divio may still be handling it. Check with list_backups');
    expect(writesSent(h)).toHaveLength(1);
    expect(audits(h)).toEqual([expect.objectContaining({ outcome: 'error', write: 'unknown' })]);
  });
});

describe('refusals and retry wording', () => {
  it('a write refused with 429 is not re-sent, is audited as not done, and claims no retries', async () => {
    const x = await harness();
    x.sandbox.faults.set({
      method: 'POST',
      path: '/apps/v3/backups/',
      count: 1,
      rateLimit: { retryAfterSeconds: 3 },
    });
    const r = await x.call('create_backup', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('(429)');
    expect(textOf(r)).not.toMatch(/after retries|tried \d+ times/);
    expect(writesSent(x)).toHaveLength(1);
    expect(audits(x)).toEqual([
      expect.objectContaining({ tool: 'create_backup', outcome: 'error', write: 'not_done' }),
    ]);
  });

  it('a read that failed after the client retried it says how often it was tried', async () => {
    const x = await harness();
    x.sandbox.faults.set({ method: 'GET', path: '/apps/v3/backups/', error: { status: 503 } });
    const r = await x.call('list_backups', { app: 'blog', environment: 'test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('(503) (tried 3 times)');
  });
});
