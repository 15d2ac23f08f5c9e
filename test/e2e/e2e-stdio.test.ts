import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { ERAS, type Era } from '../helpers/harness.js';
import { sharedValidator } from '../helpers/validator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = `${ROOT}dist/index.js`;
const ENV = { ...getDefaultEnvironment(), DIVIO_SANDBOX_SPEED: '20' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion (bounded by a kill timer), feeding `input` on stdin. */
function runCli(args: string[], input = '', timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, ...args], { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

async function connect(era: Era, extraArgs: string[] = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [ENTRY, '--sandbox', ...extraArgs],
    env: ENV,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const client = new Client(
    { name: 'divio-mcp-e2e', version: '1.0.0' },
    {
      jsonSchemaValidator: sharedValidator,
      versionNegotiation: { mode: era === 'legacy' ? 'legacy' : { pin: '2026-07-28' } },
    },
  );
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  await client.connect(transport);
  return { client, errors, stderr: () => stderr };
}

// Every test starts its own server and waits on it, so the tests run concurrently.
describe.concurrent.each(ERAS)('stdio end to end (%s era)', (era) => {
  it('lists tools and calls list_applications and get_environment', async () => {
    const { client, errors, stderr } = await connect(era);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('list_applications');
      expect(tools).toContain('create_backup');

      const apps = await client.callTool({ name: 'list_applications', arguments: {} });
      expect(apps.isError).toBeFalsy();
      const slugs = (apps.structuredContent as { applications: { slug: string }[] }).applications.map(
        (a) => a.slug,
      );
      expect(slugs).toContain('shop');

      const env = await client.callTool({
        name: 'get_environment',
        arguments: { app: 'shop', environment: 'live' },
      });
      expect(env.isError).toBeFalsy();
      expect(env.structuredContent).toMatchObject({
        app: 'shop',
        environment: 'live',
        production_grade: true,
      });

      // A bad argument is answered with zod's English message (the bundle keeps that locale only).
      const bad = await client.callTool({
        name: 'get_environment',
        arguments: { app: 'shop', environment: 5 },
      });
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toContain(
        'environment: Invalid input: expected string, received number',
      );

      // Anything but JSON-RPC on stdout would have surfaced as a parse error here.
      expect(errors).toEqual([]);
      expect(stderr()).toMatch(/embedded sandbox/);
      expect(stderr()).toMatch(/serving MCP on stdio/);
    } finally {
      await client.close();
    }
  });
});

describe.concurrent('stdio end to end: flags and raw output', () => {
  it('writes nothing but JSON-RPC to stdout; the banner goes to stderr', async () => {
    const messages = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1.0.0' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_applications', arguments: {} } },
    ];
    // The server exits when stdin ends; give it the requests and a moment to answer first.
    const child = spawn(process.execPath, [ENTRY, '--sandbox', '--log-level', 'debug'], {
      env: ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    for (const m of messages) child.stdin.write(`${JSON.stringify(m)}\n`);
    for (let waited = 0; waited < 10_000 && !/"id":3\b/.test(stdout); waited += 25) {
      await new Promise((r) => setTimeout(r, 25));
    }
    child.stdin.end();
    await closed;
    clearTimeout(kill);

    const lines = stdout.split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBe(3);
    for (const line of lines) {
      const parsed = JSON.parse(line) as { jsonrpc: string };
      expect(parsed.jsonrpc).toBe('2.0');
    }
    expect(stdout).not.toMatch(/divio-mcp .*serving|sandbox at/);
    expect(stderr).toMatch(/serving MCP on stdio/);
    // stderr is the log: JSON lines, one of them for the tool call.
    const logLines = stderr
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logLines.filter((l) => l['type'] === 'tool_call').map((l) => l['tool'])).toEqual([
      'list_applications',
    ]);
    const call = JSON.parse(lines[2] ?? '{}') as {
      result: { structuredContent: { applications: unknown[] } };
    };
    expect(call.result.structuredContent.applications.length).toBe(5);
  });

  it("the bundle carries zod's English locale only", () => {
    // scripts/build.mjs bundles zod's `locales` namespace with English only (its other ~60 locales were 45% of
    // zod's chunk, parsed at every start); the era tests check a bad argument still gets zod's English message.
    const bundled = readdirSync(`${ROOT}dist`)
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => [
        ...readFileSync(`${ROOT}dist/${f}`, 'utf8').matchAll(
          /^\/\/ node_modules\/zod\/v4\/locales\/(\S+)$/gm,
        ),
      ])
      .map((m) => m[1]);
    // index.js is zod's locales namespace, rewritten by the build to re-export English alone.
    expect(bundled.sort()).toEqual(['en.js', 'index.js']);
  });

  it('--read-only hides create_backup', async () => {
    const { client } = await connect('legacy', ['--read-only']);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('list_backups');
      expect(tools).not.toContain('create_backup');
    } finally {
      await client.close();
    }
  });

  it('--toolsets logs lists only the logs tools', async () => {
    const { client } = await connect('modern', ['--toolsets', 'logs']);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(['get_environment_logs', 'get_environment_metrics']);
    } finally {
      await client.close();
    }
  });

  it('an unknown flag exits 2 with a helpful message', async () => {
    const run = await runCli(['--sandbox', '--frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/frobnicate/);
    expect(run.stderr).toMatch(/--help/);
    expect(run.stdout).toBe('');
  });

  it('an unknown toolset exits 2 and lists the valid ones', async () => {
    const run = await runCli(['--sandbox', '--toolsets', 'nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/nope/);
    expect(run.stderr).toMatch(/apps, logs, deploy, backups, config/);
  });

  it('--help prints usage and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage:/);
    expect(run.stdout).toMatch(/--sandbox/);
    expect(run.stdout).toMatch(/DIVIO_API_TOKEN/);
  });
});
