import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/cli/http.js';
import { DivioClient } from '../../src/client/index.js';
import { defaultServerConfig } from '../../src/mcp/config.js';
import { silentLogger } from '../../src/mcp/log.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { createServerFactory } from '../../src/server.js';
import { FakeClock, turn, until } from '../helpers/clock.js';
import { ERAS, type Era } from '../helpers/harness.js';
import { sharedValidator } from '../helpers/validator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = `${ROOT}dist/index.js`;
const BASE_ENV = { ...getDefaultEnvironment(), DIVIO_SANDBOX_SPEED: '20' };
const AUTH_TOKEN = 'test-bearer-5f1c2a9e-0123456789abcdef';

interface Spawned {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

const children: ChildProcess[] = [];

/** Starts the built server over HTTP on an ephemeral port and waits (bounded) for the URL it logs. */
async function startServer(env: Record<string, string> = {}, args: string[] = []): Promise<Spawned> {
  const child = spawn(process.execPath, [ENTRY, '--sandbox', '--transport', 'http', '--port', '0', ...args], {
    env: { ...BASE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  for (let waited = 0; waited < 15_000; waited += 25) {
    const m = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
    if (m?.[1]) return { child, url: m[1], stderr: () => stderr };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`server did not report its URL; stderr:\n${stderr}`);
}

/** Runs the CLI until it exits (bounded), for start-up refusals. */
function runToExit(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, ...args], {
      env: { ...BASE_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A raw POST with full control over Host, Origin and Authorization. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': String(Buffer.byteLength(payload)),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
};

async function connect(url: string, era: Era, headers?: Record<string, string>): Promise<Client> {
  const client = new Client(
    { name: 'divio-mcp-http-e2e', version: '1.0.0' },
    {
      jsonSchemaValidator: sharedValidator,
      versionNegotiation: { mode: era === 'legacy' ? 'legacy' : { pin: '2026-07-28' } },
    },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : undefined),
  );
  return client;
}

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});

// Two built servers start and are waited on; the file's tests run concurrently.
describe.concurrent('HTTP transport', () => {
  describe('HTTP transport, loopback without auth', () => {
    let server: Spawned;
    beforeAll(async () => {
      server = await startServer();
    });

    it('serves /healthz as JSON', async () => {
      const res = await fetch(server.url.replace(/\/mcp$/, '/healthz'));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.json()).toMatchObject({ status: 'ok', name: 'divio-mcp' });
    });

    it.each(ERAS)('a real MCP client (%s era) lists tools and calls list_applications', async (era) => {
      const client = await connect(server.url, era);
      try {
        const tools = (await client.listTools()).tools.map((t) => t.name);
        expect(tools).toContain('list_applications');
        const r = await client.callTool({ name: 'list_applications', arguments: { limit: 2 } });
        expect(r.isError).toBeFalsy();
        const out = r.structuredContent as { applications: unknown[]; has_more: boolean };
        expect(out.applications).toHaveLength(2);
        expect(out.has_more).toBe(true);
      } finally {
        await client.close();
      }
    });

    it('refuses a foreign Origin with 403', async () => {
      const host = new URL(server.url).host;
      const res = await rawPost(server.url, { host, origin: 'http://evil.example' }, INIT);
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/Origin/);
    });

    it('refuses a foreign Host header with 403', async () => {
      const res = await rawPost(server.url, { host: 'evil.example:80' }, INIT);
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/Host/);
    });

    it('accepts a localhost Origin', async () => {
      const u = new URL(server.url);
      const res = await rawPost(server.url, { host: u.host, origin: `http://localhost:${u.port}` }, INIT);
      expect(res.status).toBe(200);
    });
  });

  describe('HTTP transport, authentication', () => {
    it('refuses to bind 0.0.0.0 without DIVIO_MCP_AUTH_TOKEN', async () => {
      const run = await runToExit(['--sandbox', '--transport', 'http', '--port', '0', '--host', '0.0.0.0']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/DIVIO_MCP_AUTH_TOKEN/);
    });

    describe('with DIVIO_MCP_AUTH_TOKEN set', () => {
      let server: Spawned;
      beforeAll(async () => {
        server = await startServer({ DIVIO_MCP_AUTH_TOKEN: AUTH_TOKEN });
      });

      it('answers 401 without the bearer token, and with a wrong one', async () => {
        const host = new URL(server.url).host;
        const none = await rawPost(server.url, { host }, INIT);
        expect(none.status).toBe(401);
        const wrong = await rawPost(server.url, { host, authorization: 'Bearer not-the-token' }, INIT);
        expect(wrong.status).toBe(401);
        expect(server.stderr()).not.toContain(AUTH_TOKEN);
      });

      it.each(ERAS)('a client (%s era) with the bearer token works', async (era) => {
        const client = await connect(server.url, era, { Authorization: `Bearer ${AUTH_TOKEN}` });
        try {
          const r = await client.callTool({ name: 'list_applications', arguments: {} });
          expect(r.isError).toBeFalsy();
          expect((r.structuredContent as { applications: unknown[] }).applications).toHaveLength(5);
        } finally {
          await client.close();
        }
      });
    });
  });

  describe.each(ERAS)('cancellation over real HTTP (%s era)', (era) => {
    // In-process server on a real 127.0.0.1 socket, so the sandbox's request log is visible.
    // A 2026-07-28 client's cancellation stops the wait at once. A 2025-era client over stateless HTTP
    // sends its cancellation as a separate POST that a fresh server instance receives, and keeps the
    // original stream open, so the server cannot tell which in-flight call it means (JSON-RPC ids are not
    // unique across clients without sessions). There the wait budget bounds the polling instead; the
    // README says so. Over stdio both eras cancel at once (tools-progress.test.ts).
    it(
      era === 'modern'
        ? 'aborting create_backup stops the server polling'
        : 'aborting create_backup: polling ends at the wait budget',
      async () => {
        // Simulated time: the sandbox, the server's waits and the client's retries share a clock only the test moves.
        const clock = new FakeClock({ auto: false });
        const sandbox = await startSandbox({ timings: { backupMs: 5000 }, clock });
        const divio = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url, clock });
        const factory = createServerFactory({
          client: divio,
          config: defaultServerConfig({ pollIntervalMs: 50 }),
          log: silentLogger,
          clock,
        });
        const http = await startHttpServer(factory, { host: '127.0.0.1', port: 0, log: silentLogger });
        const client = await connect(http.url, era);
        const polls = () =>
          sandbox.requestLog.filter(
            (e) => e.method === 'GET' && /^\/apps\/v3\/backups\/[a-z2-7]{26}\/$/.test(e.path),
          ).length;
        try {
          const controller = new AbortController();
          const budget = 1;
          const settled = client
            .callTool(
              {
                name: 'create_backup',
                arguments: { app: 'shop', environment: 'test', wait_seconds: budget },
              },
              { signal: controller.signal },
            )
            .then(
              () => 'resolved',
              () => 'rejected',
            );
          // Two polls go by, then the call is cancelled while the server waits for the next.
          while (polls() < 2) {
            await clock.sleeping();
            await clock.advance(50);
          }
          await clock.sleeping();
          controller.abort();
          expect(await settled).toBe('rejected');
          if (era === 'modern') {
            // The cancellation reaches the wait: it stops sleeping at once, before any more time passes.
            expect(await until(() => clock.pending === 0)).toBe(true);
          } else {
            // The wait keeps polling to its budget (the cancellation cannot name the call), then stops: one poll
            // after each of its 50 ms sleeps, twenty in all.
            const slept = () => clock.slept.reduce((a, b) => a + b, 0);
            while (slept() < budget * 1000) {
              await clock.sleeping();
              await clock.advance(50);
            }
            expect(await until(() => polls() >= 20)).toBe(true);
          }
          const afterCancel = polls();
          await clock.advance(60_000);
          await turn();
          expect(clock.pending).toBe(0);
          expect(polls()).toBe(afterCancel);
        } finally {
          await client.close().catch(() => undefined);
          await http.close();
          await divio.close();
          await sandbox.close();
        }
      },
    );
  });
});
