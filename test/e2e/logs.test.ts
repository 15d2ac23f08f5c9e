import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { FAST, jsonLines } from '../helpers/harness.js';
import { sharedValidator } from '../helpers/validator.js';

// The log of the built server: --log-file, --log-level, a refused token (in-process log tests: test/logs.test.ts).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = `${ROOT}dist/index.js`;
const SECRET_VALUE = 'hunter2-very-secret-value-0123456789';

/** The built server over stdio against `sandbox` with `token`, through a real SDK client. */
async function spawnServer(sandbox: Sandbox, args: string[], token = sandbox.token) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [ENTRY, ...args],
    env: { ...getDefaultEnvironment(), DIVIO_API_URL: sandbox.url, DIVIO_API_TOKEN: token },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const client = new Client(
    { name: 'divio-mcp-logs', version: '1.0.0' },
    { jsonSchemaValidator: sharedValidator, versionNegotiation: { mode: 'legacy' } },
  );
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

// Each test starts its own server and waits on it, so they run concurrently (on one sandbox: no test reads
// what another changes).
describe.concurrent('the server log, built server', () => {
  describe('the server log (spawned server)', () => {
    let sandbox: Sandbox;
    const dir = mkdtempSync(join(tmpdir(), 'divio-mcp-logs-'));

    beforeAll(async () => {
      sandbox = await startSandbox({ timings: FAST, token: 'sandbox-token-0123456789abcdef-secret' });
    });
    afterAll(async () => {
      await sandbox.close();
    });

    it('--log-file gets one line per tool call with its fields, and never the token or a sensitive value', async () => {
      const file = join(dir, 'calls.log');
      const { client, stderr } = await spawnServer(sandbox, ['--log-file', file, '--confirm-mode', 'none']);
      try {
        await client.callTool({ name: 'list_applications', arguments: {} });
        await client.callTool({ name: 'get_environment', arguments: { app: 'shop', environment: 'nope' } });
        const set = await client.callTool({
          name: 'set_environment_variable',
          arguments: {
            app: 'blog',
            environment: 'test',
            name: 'API_SECRET',
            value: SECRET_VALUE,
            sensitive: true,
          },
        });
        expect(set.isError, JSON.stringify(set)).toBeFalsy();
      } finally {
        await client.close();
      }
      const text = readFileSync(file, 'utf8');
      const calls = jsonLines(text).filter((l) => l['type'] === 'tool_call');
      expect(calls.map((c) => [c['tool'], c['outcome']])).toEqual([
        ['list_applications', 'ok'],
        ['get_environment', 'error'],
        ['set_environment_variable', 'ok'],
      ]);
      for (const c of calls) {
        expect(c).toMatchObject({ level: 'info', protocol: expect.any(String) });
        expect(typeof c['time']).toBe('string');
        expect(c['duration_ms']).toEqual(expect.any(Number));
        expect(c['api_requests']).toBeGreaterThan(0);
      }
      expect(calls[1]?.['error']).toBe('environment_not_found');
      // The audit line of the write is in the file too, with its fields.
      expect(jsonLines(text).filter((l) => l['type'] === 'audit')).toEqual([
        expect.objectContaining({ tool: 'set_environment_variable', app: 'blog', environment: 'test' }),
      ]);
      expect(text).not.toContain(SECRET_VALUE);
      expect(text).not.toContain(sandbox.token);
      // stderr keeps warnings and errors only when a file is given: the confirm-mode warning, no info lines.
      const err = jsonLines(stderr());
      expect(err.some((l) => String(l['msg']).includes('confirm mode is "none"'))).toBe(true);
      expect(err.filter((l) => l['level'] === 'info')).toEqual([]);
      expect(stderr()).not.toContain(SECRET_VALUE);
    });

    it('--log-level warn drops the info lines (tool calls, start-up) and keeps warnings', async () => {
      const file = join(dir, 'warn.log');
      const { client } = await spawnServer(sandbox, [
        '--log-level',
        'warn',
        '--log-file',
        file,
        '--confirm-mode',
        'none',
      ]);
      try {
        await client.callTool({ name: 'list_applications', arguments: {} });
      } finally {
        await client.close();
      }
      const lines = jsonLines(readFileSync(file, 'utf8'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((l) => l['level'] === 'warn' || l['level'] === 'error')).toBe(true);
      expect(lines.some((l) => l['type'] === 'tool_call')).toBe(false);
    });

    it('a refused token is said once, with the token page, however many calls fail', async () => {
      const { client, stderr } = await spawnServer(sandbox, [], 'wrong-token-0123456789abcdef');
      try {
        for (const name of ['list_applications', 'list_applications']) {
          const r = await client.callTool({ name, arguments: {} });
          expect(r.isError).toBe(true);
        }
      } finally {
        await client.close();
      }
      const refused = jsonLines(stderr()).filter((l) => l['event'] === 'token_refused');
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ level: 'error' });
      expect(String(refused[0]?.['msg'])).toMatch(/access-tokens/);
      expect(stderr()).not.toContain('wrong-token-0123456789abcdef');
      const calls = jsonLines(stderr()).filter((l) => l['type'] === 'tool_call');
      expect(calls.map((c) => c['error'])).toEqual(['authentication_failed', 'authentication_failed']);
    });
  });

  describe('--log-file that cannot be written', () => {
    it('exits 2 naming the flag and the path, before serving anything', async () => {
      const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [ENTRY, '--sandbox', '--log-file', '/proc/divio-mcp-no-such-dir/x.log'],
          { env: getDefaultEnvironment(), timeout: 20_000 },
          (error, _stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
        );
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--log-file "/proc/divio-mcp-no-such-dir/x.log" cannot be opened');
    });
  });
});
