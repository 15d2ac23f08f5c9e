import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it, type TestContext } from 'vitest';
import { parseCli } from '../../src/cli/args.js';
import { ConfigError } from '../../src/mcp/config.js';
import { jsonLines } from '../helpers/harness.js';

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
/**
 * Stops `child` when its test ends. The tests run concurrently, so the hook is the test's own (from its context):
 * the global onTestFinished could attach to another test that is running at the same time.
 */
function stopAtEnd(onEnd: TestContext['onTestFinished'], child: ChildProcess): void {
  onEnd(() => {
    child.kill();
  });
}

/** Spawns the CLI and resolves once `pattern` shows up on the chosen stream (bounded). */
async function waitFor(
  onEnd: TestContext['onTestFinished'],
  args: string[],
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
  env: Record<string, string> = {},
) {
  const child = spawn(process.execPath, [ENTRY, ...args], {
    env: { ...getDefaultEnvironment(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  stopAtEnd(onEnd, child);
  let text = '';
  child[stream]?.on('data', (d: Buffer) => {
    text += d.toString('utf8');
  });
  for (let waited = 0; waited < 15_000; waited += 25) {
    const m = pattern.exec(text);
    if (m) return { match: m, text, child };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${pattern} on ${stream}; got:\n${text}`);
}

// Most tests start the built command and wait for it, so the file's tests run concurrently.
describe.concurrent('the command line', () => {
  describe('divio-mcp sandbox', () => {
    it('runs the simulated API alone and prints a URL and token that work', async ({ onTestFinished }) => {
      const { text } = await waitFor(
        onTestFinished,
        ['sandbox', '--port', '0'],
        'stdout',
        /DIVIO_API_TOKEN=(\S+)/,
      );
      const url = /DIVIO_API_URL=(\S+)/.exec(text)?.[1];
      const token = /DIVIO_API_TOKEN=(\S+)/.exec(text)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ok = await fetch(`${url}/apps/v3/applications/`, {
        headers: { Authorization: `Token ${token}` },
      });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { count: number }).count).toBe(5);
      const denied = await fetch(`${url}/apps/v3/applications/`);
      expect(denied.status).toBe(401);
    });
  });

  describe('start-up announcements', () => {
    it('a missing token and confirm mode none are announced on stderr, and the server still starts', async ({
      onTestFinished,
    }) => {
      const { text } = await waitFor(
        onTestFinished,
        ['--confirm-mode', 'none'],
        'stderr',
        /serving MCP on stdio/,
        { DIVIO_API_TOKEN: '' },
      );
      // stderr is the server's log: JSON lines.
      const warnings = jsonLines(text)
        .map((l) => l as { level: string; msg: string })
        .filter((l) => l.level === 'warn');
      expect(warnings.map((l) => l.msg).join('\n')).toContain('confirm mode is "none"');
      expect(text).toContain('DIVIO_API_TOKEN is not set');
    });

    it('a proxy variable that is not an http(s) URL stops it with exit 2, naming the variable, not the value', async ({
      onTestFinished,
    }) => {
      const child = spawn(process.execPath, [ENTRY], {
        env: {
          ...getDefaultEnvironment(),
          DIVIO_API_TOKEN: 't'.repeat(40),
          https_proxy: 'socks5://user:s3cret@proxy.corp:1080',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      stopAtEnd(onTestFinished, child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, stderr).toBe(2);
      expect(stderr).toContain('HTTPS_PROXY (or https_proxy) is not an http:// or https:// URL');
      expect(stderr).not.toContain('s3cret');
      expect(stderr).not.toContain('serving MCP');
    });
  });

  describe('parseCli', () => {
    it('reads flags and environment variables, flags first', () => {
      const o = parseCli(['--toolsets', 'logs,apps', '--read-only-environments', 'live'], {
        DIVIO_MCP_TOOLSETS: 'deploy',
        DIVIO_MCP_CONFIRM_MODE: 'token',
        DIVIO_MCP_PROTECTED_ENVIRONMENTS: 'staging, shop/preview',
        DIVIO_MCP_READ_ONLY: '1',
      });
      expect([...(o.config.toolsets ?? [])]).toEqual(['logs', 'apps']);
      expect(o.config.confirmMode).toBe('token');
      expect(o.config.protectedEnvironments).toEqual(['staging', 'shop/preview']);
      expect(o.config.readOnlyEnvironments).toEqual(['live']);
      expect(o.config.readOnly).toBe(true);
      expect(o.transport).toBe('stdio');
    });

    it('rejects bad values with a message that says what is valid', () => {
      expect(() => parseCli(['--toolsets', 'nope'], {})).toThrow(
        /Valid toolsets: apps, logs, deploy, backups, config/,
      );
      expect(() => parseCli(['--confirm-mode', 'maybe'], {})).toThrow(ConfigError);
      expect(() => parseCli(['--transport', 'carrier-pigeon'], {})).toThrow(/stdio or http/);
      expect(() => parseCli(['--port', '99999'], {})).toThrow(/0-65535/);
      expect(() => parseCli([], { DIVIO_MCP_CONFIRM_KEY: 'abcd' })).toThrow(/at least 32 bytes/);
    });

    it('a shared confirmation key is read from hex', () => {
      const hex = 'ab'.repeat(32);
      expect(
        Buffer.from(parseCli([], { DIVIO_MCP_CONFIRM_KEY: hex }).config.confirmKey).toString('hex'),
      ).toBe(hex);
    });
  });

  // The in-process checks of the policy lists are in test/policy.test.ts.
  describe('policy lists are validated at start (the built server)', () => {
    it('the server refuses to start with exit code 2 and says why on stderr', async () => {
      const run = (args: string[], env: Record<string, string>) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [ENTRY, '--sandbox', ...args], {
            env: { ...getDefaultEnvironment(), ...env },
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => {
            stderr += d.toString('utf8');
          });
          // A server that starts anyway is stopped, so the test fails on its exit code instead of hanging.
          const stop = setTimeout(() => child.kill(), 15_000);
          child.on('exit', (code) => {
            clearTimeout(stop);
            resolve({ code, stderr });
          });
        });
      const [flag, variable] = await Promise.all([
        run(['--read-only-environments', 'blog/live/'], {}),
        run([], { DIVIO_MCP_PROTECTED_ENVIRONMENTS: '"live"' }),
      ]);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain('--read-only-environments: the entry "blog/live/" is not valid');
      expect(flag.stderr).not.toContain('serving MCP');
      expect(variable.code).toBe(2);
      expect(variable.stderr).toContain(
        'DIVIO_MCP_PROTECTED_ENVIRONMENTS: the entry "\\"live\\"" is not valid',
      );
      expect(variable.stderr).toMatch(/remove the quotes/);
    });
  });

  // Node.js 22.8 and later: the built entry turns on Node's compile cache before the server is loaded, in a private
  // folder of the person's cache area (src/cli/compile-cache.ts), so the next start reads the server's compiled
  // code instead of compiling it again. XDG_CACHE_HOME points the cache area at a scratch folder (Linux).
  const hasCompileCache =
    typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

  /** A server on the sandbox whose stdin is closed at once (it loads the server, then exits), with Node's
   * debug output of the compile cache. */
  function startAndExit(cacheArea: string): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [ENTRY, '--sandbox'], {
        env: { ...getDefaultEnvironment(), XDG_CACHE_HOME: cacheArea, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString('utf8');
      });
      child.on('close', (code) => resolve({ code, output }));
      child.stdin.end();
    });
  }

  describe('compile cache', () => {
    it.runIf(hasCompileCache && process.platform === 'linux')(
      'a start fills a private folder in the cache area, which the next start reads',
      async () => {
        const area = mkdtempSync(join(tmpdir(), 'divio-mcp-cache-area-'));
        try {
          const first = await startAndExit(area);
          expect(first.code, first.output).toBe(0);
          const dir = join(area, 'divio-mcp', 'node-compile-cache');
          expect(statSync(dir).mode & 0o777).toBe(0o700);
          const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
          expect(files.length).toBeGreaterThan(0);
          const second = await startAndExit(area);
          expect(second.code, second.output).toBe(0);
          // Node's own debug output: the second start took the server's compiled code from that folder.
          expect(second.output).toContain(`reading cache from ${dir}`);
          expect(second.output).toMatch(/cache for (ESM )?\S*\/run-[A-Z0-9]+\.js was accepted/);
        } finally {
          rmSync(area, { recursive: true, force: true });
        }
      },
    );
  });
});
