import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { FAST } from '../helpers/harness.js';
import { sharedValidator } from '../helpers/validator.js';

// Confirmation tokens across replicas of the built server (the in-process deploy tests: test/deploy.test.ts).

describe('stateless replicas', () => {
  const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const children: ChildProcess[] = [];
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill();
    await sandbox?.close();
    sandbox = undefined;
  });

  async function replica(key: string): Promise<Client> {
    if (!sandbox) throw new Error('no sandbox');
    const client = new Client(
      { name: 'replica-test', version: '1' },
      { jsonSchemaValidator: sharedValidator },
    );
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [entry],
      env: {
        PATH: process.env['PATH'] ?? '',
        DIVIO_API_URL: sandbox.url,
        DIVIO_API_TOKEN: sandbox.token,
        DIVIO_MCP_CONFIRM_KEY: key,
        DIVIO_MCP_POLL_INTERVAL_MS: '50',
      },
      stderr: 'ignore',
    });
    await client.connect(transport);
    return client;
  }

  it('a token minted by one server process is accepted by another sharing the key, and only there', async () => {
    sandbox = await startSandbox({ timings: FAST });
    const key = randomBytes(32).toString('hex');
    // Three processes, started side by side.
    const [a, b, stranger] = await Promise.all([
      replica(key),
      replica(key),
      replica(randomBytes(32).toString('hex')),
    ]);
    try {
      const args = { app: 'blog', environment: 'test', name: 'REPLICA_FLAG', value: '1' };
      const preview = await a.callTool({ name: 'set_environment_variable', arguments: args });
      const token = (preview.structuredContent as { confirmation_token: string }).confirmation_token;
      const refused = await stranger.callTool({
        name: 'set_environment_variable',
        arguments: { ...args, confirm: token },
      });
      expect(refused.isError).toBe(true);
      const done = await b.callTool({
        name: 'set_environment_variable',
        arguments: { ...args, confirm: token },
      });
      expect(done.isError).toBeFalsy();
      const replay = await a.callTool({
        name: 'set_environment_variable',
        arguments: { ...args, confirm: token },
      });
      expect(replay.isError).toBe(true);
      const posts = sandbox.requestLog.filter(
        (e) => e.method === 'POST' && e.path === '/apps/v3/environment-variables/',
      );
      expect(posts).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close(), stranger.close()]);
    }
  });
});
