import { execFile, spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.js';
import { ConnectionError, TimeoutError } from '../../src/client/index.js';
import { toErrorResult } from '../../src/mcp/errors.js';
import { jsonLines } from '../helpers/harness.js';

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

// The tests that start the built command wait for it, so the file's tests run concurrently.
describe.concurrent('command-line polish', () => {
  describe('command-line mistakes get a message that says what to type', () => {
    it('suggests the closest option for a typo', () => {
      expect(() => parseCli(['--sanbox'], {})).toThrow(
        "Unknown option '--sanbox'. Did you mean '--sandbox'? Run divio-mcp --help for the options.",
      );
      expect(() => parseCli(['--read-only-enviroments', 'live'], {})).toThrow(
        "Did you mean '--read-only-environments'?",
      );
      expect(() => parseCli(['--frobnicate'], {})).toThrow(
        /^Unknown option '--frobnicate'\. Run divio-mcp --help/,
      );
    });

    it('says which value an option needs, and that a switch takes none', () => {
      expect(() => parseCli(['--port'], {})).toThrow('--port needs a value: --port N.');
      expect(() => parseCli(['--read-only=yes'], {})).toThrow('--read-only takes no value (it is a switch).');
    });
  });

  describe('network errors are said once, with the fix', () => {
    it('does not repeat "Could not reach the Divio API"', () => {
      for (const error of [
        new ConnectionError(
          'Could not reach the Divio API at https://api.divio.com (GET /apps/v3/applications/): ECONNREFUSED.',
          false,
        ),
        new TimeoutError('GET /apps/v3/applications/ timed out after 30000 ms.', true),
      ]) {
        const text = (toErrorResult(error, 'list_applications').content[0] as { text: string }).text;
        expect(text.match(/Could not reach/g)?.length ?? 0).toBeLessThanOrEqual(1);
        expect(text).toContain(error.message);
        expect(text).toMatch(/proxy variables, firewall/);
      }
    });
  });

  function runUntilExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [ENTRY, ...args],
        { timeout: 20_000 },
        (error, _stdout, stderr) => {
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr });
        },
      );
      child.stdin?.end();
    });
  }

  describe('HTTP start-up and Host problems carry their fix', () => {
    it('a busy port exits 2 and suggests --port 0', async () => {
      const busy = createServer();
      await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
      const port = (busy.address() as AddressInfo).port;
      try {
        const run = await runUntilExit(['--sandbox', '--transport', 'http', '--port', String(port)]);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
        expect(run.stderr).toContain('--port 0');
      } finally {
        busy.close();
      }
    });

    it('a refused Host header names DIVIO_MCP_ALLOWED_HOSTS, in the answer and once on stderr', async () => {
      const child = spawn(process.execPath, [ENTRY, '--sandbox', '--transport', 'http', '--port', '0'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      try {
        const url = await new Promise<URL>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(stderr)), 20_000);
          child.stderr.on('data', () => {
            const m = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
            if (m?.[1]) {
              clearTimeout(timer);
              resolve(new URL(m[1]));
            }
          });
        });
        const post = () =>
          new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = request(
              {
                host: url.hostname,
                port: url.port,
                path: url.pathname,
                method: 'POST',
                headers: { host: 'divio-mcp.internal.example:8808', 'content-type': 'application/json' },
              },
              (res) => {
                let body = '';
                res.on('data', (c: Buffer) => {
                  body += c.toString('utf8');
                });
                res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
              },
            );
            req.on('error', reject);
            req.end('{"jsonrpc":"2.0","id":1,"method":"ping"}');
          });
        const first = await post();
        await post();
        expect(first.status).toBe(403);
        const message = (JSON.parse(first.body) as { error: { message: string } }).error.message;
        expect(message).toContain('DIVIO_MCP_ALLOWED_HOSTS');
        expect(message).toContain('"divio-mcp.internal.example"');
        // stderr is the server's log: JSON lines.
        const refused = jsonLines(stderr)
          .map((l) => String(l['msg']))
          .filter((msg) => msg.includes('refused a request for host "divio-mcp.internal.example"'));
        expect(refused).toHaveLength(1);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});
