import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import { defaultServerConfig } from '../src/mcp/config.js';
import { silentLogger } from '../src/mcp/log.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { createServerFactory } from '../src/server.js';
import { FakeClock } from './helpers/clock.js';
import { FAST, type Harness, startHarness, textOf } from './helpers/harness.js';
import { sharedValidator } from './helpers/validator.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('one poll per operation, however many calls wait on it', () => {
  it('50 attach-only deploy calls on one environment share one poller', async () => {
    const clock = new FakeClock({ auto: false });
    h = await startHarness({
      clock,
      sandbox: { timings: { ...FAST, deployMs: 120_000 } },
      config: { pollIntervalMs: 200 },
    });
    const env = await h.divio.resolveEnvironment(await h.divio.resolveApplication('blog'), 'test');
    const running = await h.divio.deployments.create({ environment: env.uuid });
    h.sandbox.clearRequestLog();
    const all = Promise.all(
      Array.from({ length: 50 }, () =>
        (h as Harness).call('deploy_environment', { app: 'blog', environment: 'test', wait_seconds: 1 }),
      ),
    );
    // Time moves one interval at a time, once all fifty are waiting: the calls wait side by side, as fifty
    // calls that came in together would.
    let settled = false;
    void all.finally(() => {
      settled = true;
    });
    while (!settled) {
      await Promise.race([clock.sleeping(50), all]);
      if (!settled) await clock.advance(200);
    }
    const results = await all;
    for (const r of results) {
      expect(r.isError, textOf(r)).toBeFalsy();
      const out = r.structuredContent?.['result'] as { attached: boolean; deployment: { uuid: string } };
      expect(out.attached).toBe(true);
      expect(out.deployment.uuid).toBe(running.uuid);
    }
    const reads = h.sandbox.requestLog.filter(
      (e) => e.method === 'GET' && e.path.includes('/deployments/') && e.path.includes(running.uuid),
    ).length;
    // Each call reads the deployment once when it attaches (50 reads). Polled separately, a 1 s wait at a
    // 200 ms interval costs every call about five more (about 300 in all); shared, the whole wait costs
    // one read per interval.
    expect(reads).toBeGreaterThan(50);
    expect(reads).toBeLessThan(100);
    expect(h.sandbox.requestLog.filter((e) => e.method === 'POST')).toHaveLength(0);
  });

  it('a waiter that is cancelled does not cancel the poll the others share', async () => {
    const clock = new FakeClock({ auto: false });
    h = await startHarness({
      clock,
      sandbox: { timings: { ...FAST, deployMs: 1500 } },
      config: { pollIntervalMs: 100 },
    });
    const env = await h.divio.resolveEnvironment(await h.divio.resolveApplication('blog'), 'test');
    const running = await h.divio.deployments.create({ environment: env.uuid });
    const controller = new AbortController();
    const cancelled = h
      .call(
        'deploy_environment',
        { app: 'blog', environment: 'test', wait_seconds: 30 },
        { signal: controller.signal },
      )
      .then(
        () => 'resolved',
        () => 'rejected',
      );
    const kept = h.call('deploy_environment', { app: 'blog', environment: 'test', wait_seconds: 30 });
    // Both are attached and waiting; three shared polls go by, then one of them is cancelled.
    for (let i = 0; i < 3; i++) {
      await clock.sleeping(2);
      await clock.advance(100);
    }
    await clock.sleeping(2);
    controller.abort();
    expect(await cancelled).toBe('rejected');
    clock.setAuto(true);
    const r = await kept;
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent?.['result'] as { finished: boolean; deployment: { uuid: string } };
    expect(out.deployment.uuid).toBe(running.uuid);
    expect(out.finished).toBe(true);
  });
});

describe('declined dialogs (2026-07-28)', () => {
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('a declined requestState is burned: replaying it as "accept" is refused and writes nothing', async () => {
    sandbox = await startSandbox({ timings: FAST });
    const divio = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url });
    const factory = createServerFactory({ client: divio, config: defaultServerConfig(), log: silentLogger });
    const handler = createMcpHandler(factory);
    const sent: { body: string; headers: Headers }[] = [];
    const mcp = new Client(
      { name: 'replay', version: '1' },
      {
        jsonSchemaValidator: sharedValidator,
        capabilities: { elicitation: { form: {} } },
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      },
    );
    mcp.setRequestHandler('elicitation/create', async () => ({ action: 'decline' }));
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL('http://divio-mcp.test/mcp'), {
        fetch: async (url, init) => {
          sent.push({ body: String(init?.body ?? ''), headers: new Headers(init?.headers) });
          return handler.fetch(new Request(url, init));
        },
      }),
    );
    try {
      const args = { app: 'blog', environment: 'test', name: 'REPLAYED', value: '1' };
      const declined = await mcp.callTool({ name: 'set_environment_variable', arguments: args });
      expect(declined.isError).toBe(true);
      expect(textOf(declined as never)).toMatch(/did not confirm \(decline\)/);

      // The client's answer round carries the signed state; replay it with the answer changed to yes.
      const answered = sent.find((s) => /"requestState"/.test(s.body));
      expect(answered).toBeDefined();
      const replay = JSON.parse(answered?.body ?? '{}') as {
        id: number;
        params: { inputResponses: Record<string, unknown> };
      };
      replay.id = 99;
      replay.params.inputResponses = { confirm: { action: 'accept', content: { confirm: true } } };
      const res = await handler.fetch(
        new Request('http://divio-mcp.test/mcp', {
          method: 'POST',
          headers: answered?.headers ?? {},
          body: JSON.stringify(replay),
        }),
      );
      const text = await res.text();
      expect(text).toMatch(/"isError":true/);
      expect(text).toMatch(/confirmation was already used/);
      const writes = sandbox.requestLog.filter((e) => e.method !== 'GET');
      expect(writes).toHaveLength(0);
    } finally {
      await mcp.close();
      await handler.close();
      await divio.close();
    }
  });
});
