import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { HAVE_REDIS, type RedisServer, startRedis } from '../helpers/redis.js';
import { sharedValidator } from '../helpers/validator.js';

// Two replicas of the built server over HTTP, one sandbox, one Redis, one confirmation key: a token minted on
// one replica and fired at both at the same instant must write exactly once. Without the shared store this
// wrote twice in about half of the tries (each replica remembered only its own used tokens): thirty tries, ten
// per write tool, miss a regression of one tool with a chance of about one in a thousand.

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const TRIES = 30;

interface Replica {
  child: ChildProcess;
  client: Client;
  stderr: () => string;
}

let redis: RedisServer;
let sandbox: Sandbox;
const replicas: Replica[] = [];

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [ENTRY, '--transport', 'http', '--port', '0'], {
    env: { ...getDefaultEnvironment(), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  let url: URL | undefined;
  for (let waited = 0; waited < 15_000 && !url; waited += 25) {
    const m = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
    if (m?.[1]) url = new URL(m[1]);
    else await new Promise((r) => setTimeout(r, 25));
  }
  if (!url) throw new Error(`no URL in stderr: ${stderr}`);
  // 2025-era clients over stateless HTTP get the token flow (they cannot answer a dialog there).
  const client = new Client(
    { name: 'race', version: '1' },
    { jsonSchemaValidator: sharedValidator, versionNegotiation: { mode: 'legacy' } },
  );
  await client.connect(new StreamableHTTPClientTransport(url));
  return { child, client, stderr: () => stderr };
}

beforeAll(async () => {
  if (!HAVE_REDIS) return;
  redis = await startRedis();
  sandbox = await startSandbox({ timings: { deployMs: 50, backupMs: 30, restoreMs: 30, downloadMs: 20 } });
  const env = {
    DIVIO_API_URL: sandbox.url,
    DIVIO_API_TOKEN: sandbox.token,
    DIVIO_MCP_REDIS_URL: redis.url,
    DIVIO_MCP_CONFIRM_KEY: randomBytes(32).toString('hex'),
    DIVIO_MCP_CONFIRM_MODE: 'token',
    DIVIO_MCP_POLL_INTERVAL_MS: '20',
    DIVIO_MCP_RATE_LIMIT: '0',
  };
  replicas.push(...(await Promise.all([startReplica(env), startReplica(env)])));
}, 30_000);

afterAll(async () => {
  for (const r of replicas) {
    await r.client.close().catch(() => undefined);
    r.child.kill();
  }
  await sandbox?.close();
  await redis?.stop();
});

type Result = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: unknown };
const textOf = (r: Result) => r.content.map((c) => c.text ?? '').join('\n');

describe.skipIf(!HAVE_REDIS)('two replicas sharing Redis', () => {
  it('say at start that state is shared', () => {
    for (const r of replicas) expect(r.stderr()).toContain(`shared state in Redis at ${redis.url}`);
  });

  it(`one confirmation token fired at both replicas at once writes exactly once (${TRIES} tries)`, async () => {
    const [a, b] = replicas as [Replica, Replica];
    const listed = (await a.client.callTool({
      name: 'list_backups',
      arguments: { app: 'blog', environment: 'test' },
    })) as Result;
    const backups = (listed.structuredContent as { backups: { uuid: string; success: string | null }[] })
      .backups;
    const backup = backups.find((x) => x.success === 'SUCCESS')?.uuid;
    expect(backup).toBeTruthy();

    const tools = [
      { name: 'restore_backup', args: () => ({ backup, services: ['database'], wait_seconds: 0 }) },
      { name: 'create_backup_download', args: () => ({ backup, service: 'database', wait_seconds: 0 }) },
      {
        name: 'set_environment_variable',
        args: (i: number) => ({ app: 'blog', environment: 'test', name: `RACE_${i}`, value: String(i) }),
      },
    ];
    // wait_seconds 0: the replica that writes answers with the operation's handle instead of polling it.
    const writesPerTry: Record<string, number[]> = {};
    for (let i = 0; i < TRIES; i++) {
      const tool = tools[i % tools.length] as (typeof tools)[number];
      const args = tool.args(i);
      // Minted on replica A with the token flow.
      const preview = (await a.client.callTool({ name: tool.name, arguments: args })) as Result;
      const token = (preview.structuredContent as { confirmation_token: string | null }).confirmation_token;
      expect(token, textOf(preview)).toBeTruthy();
      sandbox.clearRequestLog();
      // Fired at both at the same instant.
      const answers = (await Promise.all([
        a.client.callTool({ name: tool.name, arguments: { ...args, confirm: token } }),
        b.client.callTool({ name: tool.name, arguments: { ...args, confirm: token } }),
      ])) as Result[];
      const writes = sandbox.requestLog.filter((e) => e.method !== 'GET' && e.method !== 'HEAD').length;
      writesPerTry[tool.name] = [...(writesPerTry[tool.name] ?? []), writes];
      const ok = answers.filter((r) => !r.isError);
      const refused = answers.filter((r) => r.isError);
      expect(ok, answers.map(textOf).join('\n---\n')).toHaveLength(1);
      expect(textOf(refused[0] as Result)).toMatch(/already used|already running|no longer matches/);
      expect(textOf(refused[0] as Result)).toContain('Nothing');
    }
    for (const [name, counts] of Object.entries(writesPerTry)) {
      expect(
        counts.filter((n) => n !== 1),
        `${name}: writes per token ${counts.join(',')}`,
      ).toEqual([]);
    }
    expect(Object.values(writesPerTry).flat()).toHaveLength(TRIES);
  }, 60_000);
});
