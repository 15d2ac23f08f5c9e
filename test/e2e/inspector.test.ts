import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTools } from '../../src/tools/index.js';

// A client written by others: the MCP Inspector's CLI mode, driving the built server over stdio and HTTP.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = `${ROOT}dist/index.js`;
const INSPECTOR = `${ROOT}node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function inspector(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [INSPECTOR, '--cli', ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, DIVIO_SANDBOX_SPEED: '20' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const json = (run: Run) => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
};

const stdio = ['node', ENTRY, '--sandbox'];

// Each run of the Inspector is a process, and each stdio run starts a server too: tools/list runs over stdio
// (with the schema checks), the calls and the resource list over HTTP against one server, all concurrently.
describe.concurrent('MCP Inspector CLI', () => {
  describe('MCP Inspector CLI over stdio', { timeout: 60_000 }, () => {
    it('lists every tool with typed schemas and no schema-portability warnings', async () => {
      const run = await inspector([...stdio, '--method', 'tools/list']);
      expect(run.stderr).not.toMatch(/Schema portability: \d+ errors?, [1-9]\d* warnings?/);
      const out = json(run);
      const tools = out['tools'] as { name: string; outputSchema?: { properties?: object } }[];
      expect(tools.map((t) => t.name)).toEqual(allTools.map((t) => t.name));
      for (const t of tools)
        expect(Object.keys(t.outputSchema?.properties ?? {}).length, t.name).toBeGreaterThan(0);
    });
  });

  describe.concurrent('MCP Inspector CLI over HTTP', { timeout: 60_000 }, () => {
    let server: ChildProcess;
    let url: string;
    beforeAll(async () => {
      server = spawn(process.execPath, [ENTRY, '--sandbox', '--transport', 'http', '--port', '0'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      url = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
        server.stderr?.on('data', (d: Buffer) => {
          stderr += d.toString('utf8');
          const m = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
          if (m?.[1]) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
    });
    afterAll(() => {
      server.kill('SIGKILL');
    });
    const http = (args: string[]) => inspector([url, '--transport', 'http', ...args]);

    it('calls a read tool and gets text, structured content and resource links', async () => {
      const out = json(
        await http([
          '--method',
          'tools/call',
          '--tool-name',
          'get_environment',
          '--tool-arg',
          'app=shop',
          '--tool-arg',
          'environment=live',
        ]),
      );
      expect(out['isError']).toBeFalsy();
      expect(out['structuredContent']).toMatchObject({
        app: 'shop',
        environment: 'live',
        production_grade: true,
      });
      const content = out['content'] as { type: string; uri?: string }[];
      expect(content[0]?.type).toBe('text');
      expect(content.some((c) => c.type === 'resource_link' && c.uri?.startsWith('divio://'))).toBe(true);
    });

    it('lists resources', async () => {
      const out = json(await http(['--method', 'resources/list']));
      const resources = out['resources'] as { uri: string }[];
      expect(resources.length).toBeGreaterThan(0);
      expect(resources.every((r) => r.uri.startsWith('divio://'))).toBe(true);
    });

    it('reports a tool error with a non-zero exit', async () => {
      const run = await http([
        '--method',
        'tools/call',
        '--tool-name',
        'get_environment',
        '--tool-arg',
        'app=no-such-app',
        '--tool-arg',
        'environment=live',
      ]);
      expect(run.code).not.toBe(0);
      expect(run.stdout + run.stderr).toMatch(/list_applications/);
    });
  });
});
