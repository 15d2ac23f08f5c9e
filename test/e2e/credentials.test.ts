import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { sharedValidator } from '../helpers/validator.js';

// The built server finds the token the way Divio's CLI left it (the credential lookup itself:
// test/credentials.test.ts).

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

describe('a netrc-only user starts with no configuration', () => {
  let sandbox: Sandbox;
  let dir: string;
  beforeAll(async () => {
    sandbox = await startSandbox();
    dir = mkdtempSync(join(tmpdir(), 'divio-netrc-'));
  });
  afterAll(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the token from the netrc entry, says where it came from, and never prints it', async () => {
    writeFileSync(
      join(dir, '.netrc'),
      `machine control.sandbox.test\n  login ops@example.com\n  password ${sandbox.token}\n`,
      { mode: 0o600 },
    );
    const env: Record<string, string> = { ...getDefaultEnvironment(), HOME: dir };
    env['DIVIO_API_URL'] = sandbox.url;
    env['DIVIO_ZONE'] = 'sandbox.test';
    delete env['DIVIO_API_TOKEN'];
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [ENTRY],
      env,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const client = new Client(
      { name: 'netrc-test', version: '1.0.0' },
      { jsonSchemaValidator: sharedValidator },
    );
    await client.connect(transport);
    try {
      const r = await client.callTool({ name: 'list_applications', arguments: {} });
      expect(r.isError).toBeFalsy();
      expect(JSON.stringify(r.structuredContent)).toContain('shop');
    } finally {
      await client.close();
    }
    expect(stderr).toContain('Divio token from ~/.netrc (machine control.sandbox.test)');
    expect(stderr).not.toContain(sandbox.token);
  });
});
