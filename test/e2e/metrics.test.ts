import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';

// /metrics of the built server (the in-process metrics tests: test/metrics.test.ts).

describe('the built server', () => {
  it('serves /metrics on the --metrics-port listener it names at start-up', async () => {
    const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [entry, '--sandbox', '--transport', 'http', '--port', '0', '--metrics-port', '0'],
      { env: { ...getDefaultEnvironment() }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    try {
      let found: RegExpExecArray | null = null;
      for (let waited = 0; waited < 15_000 && !found && child.exitCode === null; waited += 25) {
        found = /MCP endpoint (\S+) \(.*metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)\)/.exec(stderr);
        if (!found) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(found, stderr).not.toBeNull();
      const [, mcpUrl = '', scrapeUrl = ''] = found ?? [];
      expect(new URL(scrapeUrl).port).not.toBe(new URL(mcpUrl).port);
      const res = await fetch(scrapeUrl);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('# TYPE divio_mcp_tool_calls_total counter');
      expect(text).toContain('nodejs_heap_size_used_bytes');
      expect((await fetch(mcpUrl.replace(/\/mcp$/, '/metrics'))).status).toBe(404);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
