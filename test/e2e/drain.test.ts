import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it, type TestContext } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { sharedValidator } from '../helpers/validator.js';

// SIGTERM while a deploy is being waited on: the built server stops taking requests, answers the wait with
// the deployment's handle and a "still running" note, writes the audit line, and exits 0. The sandbox is
// started here, so its request log shows what the server did and the deploy never finishes on its own.

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const DEPLOY_POST = /^\/apps\/v3\/deployments\/?$/;
const DEPLOY_GET = /^\/apps\/v3\/deployments\/[^/]+\/?$/;

interface Spawned {
  sandbox: Sandbox;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/*
 * The three runs wait on real time (the drain deadline, a spawned process), so they run concurrently; each has
 * its own sandbox and server, and kills and closes them when it ends (with its own hook, from its context).
 */
async function spawnServer(
  onEnd: TestContext['onTestFinished'],
  args: string[],
  drainSeconds: string,
): Promise<Spawned> {
  const sandbox = await startSandbox({ timings: { deployMs: 600_000 } });
  const child = spawn(process.execPath, [ENTRY, ...args], {
    env: {
      ...getDefaultEnvironment(),
      DIVIO_API_URL: sandbox.url,
      DIVIO_API_TOKEN: sandbox.token,
      DIVIO_MCP_CONFIRM_MODE: 'none',
      DIVIO_MCP_POLL_INTERVAL_MS: '100',
      DIVIO_MCP_DRAIN_SECONDS: drainSeconds,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  onEnd(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await sandbox.close();
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { sandbox, child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitUntil(cond: () => boolean, ms = 15_000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

function count(sandbox: Sandbox, method: string, path: RegExp): number {
  return sandbox.requestLog.filter((e) => e.method === method && path.test(e.path)).length;
}

/** Bounded: the process must exit by itself after the drain (a stuck one is killed and fails the test). */
async function exitCode(s: Spawned): Promise<number | null> {
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
  const code = await s.exited;
  clearTimeout(timer);
  return code;
}

interface DeployResult {
  attached: boolean;
  finished: boolean;
  deployment: { uuid: string };
  next_step: string | null;
}

function expectHandedBack(sandbox: Sandbox, result: DeployResult, stderr: string): void {
  expect(result.attached).toBe(false);
  expect(result.finished).toBe(false);
  expect(result.next_step).toMatch(/shutting down/);
  expect(result.next_step).toContain(`get_deployment with deployment=${result.deployment.uuid}`);
  const audit = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['type'] === 'audit' && e['tool'] === 'deploy_environment');
  expect(audit).toEqual([expect.objectContaining({ outcome: 'ok', uuid: result.deployment.uuid })]);
  // Exactly one deploy was started, and it was not stopped: it keeps running on Divio.
  expect(count(sandbox, 'POST', DEPLOY_POST)).toBe(1);
  expect(sandbox.requestLog.some((e) => e.method === 'DELETE')).toBe(false);
}

describe.concurrent('graceful drain on SIGTERM', () => {
  it('stdio: a deploy wait answers with its handle, later requests are refused, exit 0', async ({
    onTestFinished,
  }) => {
    const s = await spawnServer(onTestFinished, [], '0.6');
    const send = (m: unknown) => s.child.stdin?.write(`${JSON.stringify(m)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: {
        name: 'deploy_environment',
        arguments: { app: 'blog', environment: 'test', wait_seconds: 50 },
      },
    });
    expect(await waitUntil(() => count(s.sandbox, 'GET', DEPLOY_GET) >= 2)).toBe(true);
    s.child.kill('SIGTERM');
    expect(await waitUntil(() => /draining/.test(s.stderr()))).toBe(true);
    send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });

    expect(await exitCode(s)).toBe(0);
    const answers = s
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            id: number;
            result?: { structuredContent: { result: DeployResult } };
            error?: { message: string };
          },
      );
    const deploy = answers.find((a) => a.id === 2);
    expect(deploy?.result, s.stderr()).toBeDefined();
    expectHandedBack(s.sandbox, deploy?.result?.structuredContent.result as DeployResult, s.stderr());
    const late = answers.find((a) => a.id === 3);
    expect(late?.error?.message).toMatch(/shutting down/);
  });

  describe.each(['legacy', 'modern'] as const)('HTTP, %s-era client', (era) => {
    it('a deploy wait answers with its handle; /readyz fails and new requests get 503 while draining; exit 0', async ({
      onTestFinished,
    }) => {
      const s = await spawnServer(onTestFinished, ['--transport', 'http', '--port', '0'], '1');
      expect(await waitUntil(() => /MCP endpoint http:\/\/127\.0\.0\.1:\d+\/mcp/.test(s.stderr()))).toBe(
        true,
      );
      const url = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(s.stderr())?.[1] as string;
      const base = url.replace(/\/mcp$/, '');
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      const client = new Client(
        { name: 'drain-test', version: '1' },
        {
          jsonSchemaValidator: sharedValidator,
          versionNegotiation: { mode: era === 'legacy' ? 'legacy' : { pin: '2026-07-28' } },
        },
      );
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      try {
        const call = client.callTool({
          name: 'deploy_environment',
          arguments: { app: 'blog', environment: 'test', wait_seconds: 50 },
        });
        expect(await waitUntil(() => count(s.sandbox, 'GET', DEPLOY_GET) >= 2)).toBe(true);
        s.child.kill('SIGTERM');
        expect(await waitUntil(() => /draining/.test(s.stderr()))).toBe(true);

        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(503);
        expect(((await ready.json()) as { status: string }).status).toBe('draining');
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const late = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
        });
        expect(late.status).toBe(503);
        expect(await late.text()).toMatch(/shutting down/);

        const r = await call;
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        expect(await exitCode(s)).toBe(0);
        expectHandedBack(s.sandbox, (r.structuredContent as { result: DeployResult }).result, s.stderr());
        expect(s.stderr()).toMatch(/drained; exiting/);
      } finally {
        await client.close().catch(() => undefined);
      }
    });
  });
});
