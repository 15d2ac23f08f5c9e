import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedValidator } from '../helpers/validator.js';

// Over stateless Streamable HTTP a 2025-era client cannot answer a pushed elicitation/create (its answer
// would reach a fresh server instance), so the server treats it as a client without dialogs: token flow,
// protected environments refused. 2026-07-28 clients answer input_required rounds in the same request.

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
let child: ChildProcess;
let url: URL;

beforeAll(async () => {
  child = spawn(process.execPath, [ENTRY, '--sandbox', '--transport', 'http', '--port', '0'], {
    env: { ...getDefaultEnvironment(), DIVIO_SANDBOX_SPEED: '20' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  for (let waited = 0; waited < 15_000; waited += 25) {
    const m = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
    if (m?.[1]) {
      url = new URL(m[1]);
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no URL in stderr: ${stderr}`);
});

afterAll(() => {
  child?.kill();
});

async function connect(mode: 'legacy' | { pin: '2026-07-28' }, dialogs: string[]): Promise<Client> {
  const client = new Client(
    { name: 'http-confirm-test', version: '1' },
    {
      jsonSchemaValidator: sharedValidator,
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: { mode },
    },
  );
  client.setRequestHandler('elicitation/create', async (req) => {
    dialogs.push(req.params.message);
    return { action: 'accept', content: { confirm: true } };
  });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

describe('confirmation over Streamable HTTP', () => {
  it('2026-07-28 client: the person gets the dialog and the write runs', async () => {
    const dialogs: string[] = [];
    const client = await connect({ pin: '2026-07-28' }, dialogs);
    try {
      const r = await client.callTool({
        name: 'set_environment_variable',
        arguments: { app: 'blog', environment: 'test', name: 'HTTP_MODERN', value: '1' },
      });
      expect(r.isError).toBeFalsy();
      expect(dialogs).toHaveLength(1);
      expect((r.structuredContent as { confirmation_required: boolean }).confirmation_required).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('2025-era client: gets the token flow instead of a dialog it could not answer', async () => {
    const dialogs: string[] = [];
    const client = await connect('legacy', dialogs);
    try {
      const args = { app: 'blog', environment: 'test', name: 'HTTP_LEGACY', value: '1' };
      const preview = await client.callTool({ name: 'set_environment_variable', arguments: args });
      expect(dialogs).toHaveLength(0);
      const token = (preview.structuredContent as { confirmation_token: string }).confirmation_token;
      expect(typeof token).toBe('string');
      const done = await client.callTool({
        name: 'set_environment_variable',
        arguments: { ...args, confirm: token },
      });
      expect(done.isError).toBeFalsy();
      const protectedEnv = await client.callTool({
        name: 'deploy_environment',
        arguments: { app: 'shop', environment: 'live' },
      });
      expect(protectedEnv.isError).toBe(true);
    } finally {
      await client.close();
    }
  });
});
