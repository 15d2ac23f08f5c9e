import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { startSandbox } from '../src/sandbox/index.js';
import { startRedis } from '../test/helpers/redis.js';
import { rss } from './proc.js';

/*
 * `npm run soak` (`-- --smoke` for a few seconds, as `.ci/run` does; `-- --clients N --seconds S` to vary the
 * load, 50 clients for 60 s by default): two replicas of the built server over
 * HTTP share one real redis-server, behind a small round-robin proxy, against one sandbox process; all on
 * loopback, bounded in time. Clients call read tools back to back; a few write clients run confirmed writes
 * whose confirmation token is minted on one replica and used on the other, and replayed at the minting replica
 * at the same instant: each token must write exactly once. Prints calls/s, p50, p99, errors, writes per token
 * and each replica's RSS before, at peak and after, with PASS/MISS against the targets, then a markdown block to
 * paste. It reports and never gates: the exit code is 0 unless the soak itself breaks.
 *
 * Processes: this one (the clients), the proxy and the sandbox (this file again, forked with `--role`), two
 * replicas (dist/index.js) and redis-server.
 */

const SMOKE = process.argv.includes('--smoke');
const roleAt = process.argv.indexOf('--role');
const role = roleAt >= 0 ? process.argv[roleAt + 1] : undefined;
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : Number.NaN;
  return Number.isInteger(value) && value > 0 ? value : undefined;
};
const COUNTS = SMOKE
  ? { clients: 6, writers: 2, seconds: 3 }
  : { clients: flag('--clients') ?? 50, writers: 4, seconds: flag('--seconds') ?? 60 };
const TARGET = { p99Ms: 150, rssMb: 200 };

const root = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = `${root}dist/index.js`;
const SELF = fileURLToPath(import.meta.url);

const out = (s = '') => process.stdout.write(`${s}\n`);
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

/** Nearest-rank percentile. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** CPU seconds (user + system) a process has used so far; Linux only (NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

// --- role: the sandbox, in its own process; counts the writes that landed, by what they wrote -------------

async function sandboxRole(): Promise<void> {
  const sb = await startSandbox({ port: 0 });
  // A deletion names its variable by ID only: note the variable's name when the request arrives, before the
  // route removes it, so a deletion is counted against the name its token was minted for.
  const deleted = new WeakMap<object, string>();
  const log = sb.requestLog;
  const push = log.push.bind(log);
  log.push = (...entries) => {
    for (const e of entries) {
      if (e.method !== 'DELETE') continue;
      const id = e.path.split('/').filter(Boolean).pop() ?? '';
      for (const v of sb.state.environmentVariables.values())
        if (v.uuid.replaceAll('-', '').toLowerCase() === id.replaceAll('-', '').toLowerCase())
          deleted.set(e, v.name);
    }
    return push(...entries);
  };
  // Reads are forgotten as they finish (the log would grow by the hundred thousand); writes are kept.
  setInterval(() => {
    const keep = log.filter((e) => e.method !== 'GET' || e.status === 0);
    log.length = 0;
    push(...keep);
  }, 2_000).unref();
  process.on('message', (m) => {
    if (m !== 'writes') return;
    // One key per write: `set NAME` for a creation, `delete NAME` for a deletion, the path for anything else.
    const writes: Record<string, number> = {};
    for (const e of log) {
      if (e.method === 'GET' || e.status < 200 || e.status >= 300) continue;
      const name = (e.body as { name?: unknown } | undefined)?.name;
      const key =
        e.method === 'POST' && typeof name === 'string'
          ? `set ${name}`
          : e.method === 'DELETE' && deleted.has(e)
            ? `delete ${deleted.get(e)}`
            : `${e.method} ${e.path}`;
      writes[key] = (writes[key] ?? 0) + 1;
    }
    process.send?.({ writes });
  });
  process.send?.({ url: sb.url, token: sb.token });
  process.on('disconnect', () => void sb.close().then(() => process.exit(0)));
}

// --- role: the round-robin proxy; `x-soak-replica: N` pins a request to replica N -------------------------

function proxyRole(): void {
  const ports = (process.env['SOAK_REPLICA_PORTS'] ?? '').split(',').map(Number);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const served = ports.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const pin = req.headers['x-soak-replica'];
    const i = typeof pin === 'string' ? Number(pin) % ports.length : next++ % ports.length;
    served[i] = (served[i] ?? 0) + 1;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: ports[i], method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp` });
  });
  process.on('message', (m) => {
    if (m === 'served') process.send?.({ served });
  });
  process.on('disconnect', () => process.exit(0));
}

// --- the soak ---------------------------------------------------------------------------------------------

/** Forks this file in a role and resolves with its first message. */
function forkRole<T>(
  name: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(SELF, ['--role', name], { env: { ...process.env, ...env }, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, ready: m as T }));
    child.once('exit', (code) => reject(new Error(`${name} exited ${code} at start`)));
  });
}

/** Asks a forked role a question and waits for the answer that carries `key`. */
function ask<T>(child: ChildProcess, question: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (m && typeof m === 'object' && key in m) {
        child.off('message', on);
        resolve((m as Record<string, T>)[key] as T);
      }
    };
    child.on('message', on);
    child.send(question);
  });
}

async function startReplica(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    [ENTRY, '--transport', 'http', '--port', '0', '--host', '127.0.0.1'],
    {
      env: { ...getDefaultEnvironment(), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let seen = '';
  const port = await new Promise<number>((resolve, reject) => {
    let found = false;
    child.stderr?.on('data', (d: Buffer) => {
      // After the endpoint line the log (a line per call) is only drained, never kept or scanned.
      if (found) return;
      seen += d.toString('utf8');
      const m = /MCP endpoint http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(seen);
      if (m?.[1]) {
        found = true;
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`replica exited ${code}: ${seen.slice(-500)}`)));
  });
  return { child, port, pid: child.pid };
}

type Result = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: unknown };

async function mcpClient(url: URL, pin?: number): Promise<Client> {
  // 2025-era negotiation: over stateless HTTP such a client gets the confirmation-token flow.
  const client = new Client(
    { name: 'divio-mcp-soak', version: '1.0.0' },
    { versionNegotiation: { mode: 'legacy' } },
  );
  const requestInit =
    pin === undefined ? {} : { requestInit: { headers: { 'x-soak-replica': String(pin) } } };
  await client.connect(new StreamableHTTPClientTransport(url, requestInit));
  return client;
}

const READS: [string, Record<string, unknown>][] = [
  ['get_environment', { app: 'shop', environment: 'live' }],
  ['list_deployments', { app: 'shop', environment: 'live', limit: 5 }],
  ['list_environment_variables', { app: 'blog', environment: 'live' }],
  ['get_application', { app: 'blog' }],
  ['list_backups', { app: 'shop', environment: 'live', limit: 1 }],
  ['list_domains', { app: 'shop', environment: 'live' }],
];
/** One environment per write client: the server allows one write per tool and environment at a time. */
const WRITE_ENVS: [string, string][] = [
  ['shop', 'test'],
  ['blog', 'test'],
  ['api-gateway', 'test'],
  ['intranet', 'test'],
  ['marketing-site', 'test'],
  ['api-gateway', 'staging'],
];

async function main(): Promise<void> {
  const started = performance.now();
  const machine = `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GB`;
  const loadBefore = loadavg()[0] ?? Number.NaN;
  out(`divio-mcp soak${SMOKE ? ' (SMOKE: a few seconds, figures not meaningful)' : ''}`);
  out(machine);
  out(
    `load average before ${loadBefore.toFixed(2)} (1 min); ${COUNTS.clients} clients (${COUNTS.clients - COUNTS.writers} read, ${COUNTS.writers} write) for ${COUNTS.seconds} s`,
  );

  const redis = await startRedis();
  const sandbox = await forkRole<{ url: string; token: string }>('sandbox');
  const replicaEnv = {
    DIVIO_API_URL: sandbox.ready.url,
    DIVIO_API_TOKEN: sandbox.ready.token,
    DIVIO_MCP_REDIS_URL: redis.url,
    DIVIO_MCP_CONFIRM_KEY: randomBytes(32).toString('hex'),
    DIVIO_MCP_CONFIRM_MODE: 'token',
    // Every client arrives through the proxy's one loopback address: lift the per-address limits.
    DIVIO_MCP_RATE_LIMIT: '0',
    DIVIO_MCP_MAX_CALLS_PER_CLIENT: String(COUNTS.clients * 2),
    DIVIO_MCP_MAX_CALLS: String(COUNTS.clients * 2),
  };
  const replicas = await Promise.all([startReplica(replicaEnv), startReplica(replicaEnv)]);
  const proxy = await forkRole<{ url: string }>('proxy', {
    SOAK_REPLICA_PORTS: replicas.map((r) => r.port).join(','),
  });
  const url = new URL(proxy.ready.url);
  const clients: Client[] = [];

  try {
    // --- clients, connected before the clock starts -----------------------------------------------------
    const readers = await Promise.all(
      Array.from({ length: COUNTS.clients - COUNTS.writers }, () => mcpClient(url)),
    );
    // A writer has one client pinned to each replica, so a token minted on one is used on the other.
    const writers = await Promise.all(
      Array.from({ length: COUNTS.writers }, async () => [await mcpClient(url, 0), await mcpClient(url, 1)]),
    );
    clients.push(...readers, ...writers.flat());
    // Warm each replica's resolution cache and connections, as a conversation would.
    for (const c of readers.slice(0, 2))
      for (const [name, args] of READS) await c.callTool({ name, arguments: args });
    const rssBefore = replicas.map((r) => rss(r.pid));
    let rssPeakSeen = rssBefore.map((r) => r.now);
    const sampler = setInterval(() => {
      rssPeakSeen = replicas.map((r, i) => Math.max(rssPeakSeen[i] ?? 0, rss(r.pid).now));
    }, 250);

    const times = { read: [] as number[], write: [] as number[] };
    const errors: string[] = [];
    const tokens: { key: string; tool: string }[] = [];
    let replaysRefused = 0;
    const end = performance.now() + COUNTS.seconds * 1000;
    const call = async (c: Client, kind: 'read' | 'write', name: string, args: Record<string, unknown>) => {
      const t0 = performance.now();
      try {
        return (await c.callTool({ name, arguments: args })) as Result;
      } finally {
        times[kind].push(performance.now() - t0);
      }
    };
    const fail = (what: string, r?: Result) =>
      errors.push(
        `${what}${
          r
            ? `: ${r.content
                .map((x) => x.text ?? '')
                .join(' ')
                .slice(0, 300)}`
            : ''
        }`,
      );

    const reader = async (c: Client, worker: number) => {
      for (let i = worker; performance.now() < end; i++) {
        const [name, args] = READS[i % READS.length] as [string, Record<string, unknown>];
        try {
          const r = await call(c, 'read', name, args);
          if (r.isError) fail(name, r);
        } catch (error) {
          fail(`${name} threw ${String(error)}`);
        }
      }
    };

    /**
     * One confirmed write: preview on replica `mint` (it mints the token), then the token used on the other
     * replica and replayed on the minting one at the same instant. Exactly one of the two may write.
     */
    const confirmed = async (pair: Client[], mint: number, tool: string, args: Record<string, unknown>) => {
      const minting = pair[mint] as Client;
      const other = pair[1 - mint] as Client;
      const preview = await call(minting, 'write', tool, args);
      const token = (preview.structuredContent as { confirmation_token?: string | null } | undefined)
        ?.confirmation_token;
      if (preview.isError || !token) {
        fail(`${tool} preview`, preview);
        return undefined;
      }
      const [used, replayed] = await Promise.all([
        call(other, 'write', tool, { ...args, confirm: token }),
        call(minting, 'write', tool, { ...args, confirm: token }),
      ]);
      const ok = [used, replayed].filter((r) => !r.isError);
      if (ok.length !== 1) {
        fail(`${tool}: ${ok.length} of 2 uses of one token succeeded`, used);
        return undefined;
      }
      replaysRefused += 1;
      return ok[0];
    };

    const writer = async (pair: Client[], worker: number) => {
      const [app, environment] = WRITE_ENVS[worker % WRITE_ENVS.length] as [string, string];
      for (let i = 0; performance.now() < end; i++) {
        const name = `SOAK_${worker}_${i}`;
        try {
          const set = await confirmed(pair, i % 2, 'set_environment_variable', {
            app,
            environment,
            name,
            value: String(i),
          });
          if (!set) continue;
          tokens.push({ key: `set ${name}`, tool: 'set_environment_variable' });
          const del = await confirmed(pair, (i + 1) % 2, 'delete_environment_variable', {
            app,
            environment,
            name,
          });
          if (del) tokens.push({ key: `delete ${name}`, tool: 'delete_environment_variable' });
        } catch (error) {
          fail(`write threw ${String(error)}`);
        }
      }
    };

    const processes: [string, number | undefined][] = [
      ['replica 0', replicas[0]?.pid],
      ['replica 1', replicas[1]?.pid],
      ['proxy', proxy.child.pid],
      ['sandbox', sandbox.child.pid],
      ['clients', process.pid],
    ];
    const cpuBefore = processes.map(([, pid]) => cpuSeconds(pid));
    const loadT0 = performance.now();
    await Promise.all([...readers.map((c, i) => reader(c, i)), ...writers.map((pair, i) => writer(pair, i))]);
    const elapsed = (performance.now() - loadT0) / 1000;
    const loadDuring = loadavg()[0] ?? Number.NaN;
    const cpuUsed = processes.map(([, pid], i) => cpuSeconds(pid) - (cpuBefore[i] ?? Number.NaN));
    clearInterval(sampler);
    const rssAtPeak = replicas.map((r, i) => Math.max(rss(r.pid).peak, rssPeakSeen[i] ?? 0));
    // Settle: the clients leave, then the replicas get a few seconds to collect their garbage.
    for (const c of clients) await c.close().catch(() => undefined);
    clients.length = 0;
    await new Promise((r) => setTimeout(r, SMOKE ? 500 : 5_000));
    const rssAfter = replicas.map((r) => rss(r.pid));

    const landed = await ask<Record<string, number>>(sandbox.child, 'writes', 'writes');
    const served = await ask<number[]>(proxy.child, 'served', 'served');
    const perToken = tokens.map((t) => landed[t.key] ?? 0);
    const notOne = perToken.filter((n) => n !== 1).length;
    const tokenKeys = new Set(tokens.map((t) => t.key));
    const extraWrites = Object.keys(landed).filter((k) => !tokenKeys.has(k));

    const all = [...times.read, ...times.write].sort((a, b) => a - b);
    const reads = [...times.read].sort((a, b) => a - b);
    const writesT = [...times.write].sort((a, b) => a - b);
    const calls = all.length;
    const p50 = pct(all, 50);
    const p99 = pct(all, 99);
    const v = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    const oneWrite = tokens.length > 0 && notOne === 0 && extraWrites.length === 0;
    const rssOk = rssAtPeak.every((m) => m <= TARGET.rssMb);

    out();
    out(
      `calls: ${calls} in ${elapsed.toFixed(1)} s = ${(calls / elapsed).toFixed(0)} calls/s (proxy sent ${served.join(' / ')} requests to replica 0 / 1)`,
    );
    out(`  reads  ${reads.length}: p50 ${f1(pct(reads, 50))} ms, p99 ${f1(pct(reads, 99))} ms`);
    out(
      `  writes ${writesT.length} calls (preview, use, replay): p50 ${f1(pct(writesT, 50))} ms, p99 ${f1(pct(writesT, 99))} ms`,
    );
    out(`  all: p50 ${f1(p50)} ms, p99 ${f1(p99)} ms`);
    out(`errors: ${errors.length}`);
    for (const e of errors.slice(0, 5)) out(`  ${e}`);
    out(
      `tokens: ${tokens.length} confirmed writes (minted on one replica, used on the other, replayed on the minting one at the same instant); writes per token: ${notOne === 0 ? 'exactly 1 for every token' : `${notOne} tokens not exactly 1 (${perToken.join(',')})`}; writes without a token: ${extraWrites.length ? extraWrites.join(', ') : 0}; replays refused: ${replaysRefused}`,
    );
    out('RSS per replica (MB): before / peak / after');
    for (const i of replicas.keys())
      out(
        `  replica ${i}: ${f1(rssBefore[i]?.now ?? Number.NaN)} / ${f1(rssAtPeak[i] ?? Number.NaN)} / ${f1(rssAfter[i]?.now ?? Number.NaN)}`,
      );
    out(
      `CPU seconds used during the load: ${processes.map(([name], i) => `${name} ${f1(cpuUsed[i] ?? Number.NaN)}`).join(', ')} (of ${f1(elapsed * cpus().length)} the machine had)`,
    );
    out(`load average at the end ${loadDuring.toFixed(2)} (1 min)`);
    const verdicts: [string, string, boolean][] = [
      ['errors', `${errors.length} (target 0)`, errors.length === 0],
      [
        'writes per token',
        oneWrite
          ? `exactly 1 for ${tokens.length} tokens`
          : `${notOne} tokens not 1, ${extraWrites.length} untokened`,
        oneWrite,
      ],
      ['p99', `${f1(p99)} ms (target <= ${TARGET.p99Ms} ms)`, p99 <= TARGET.p99Ms],
      ['RSS per replica', `peak ${rssAtPeak.map(f1).join(' / ')} MB (target <= ${TARGET.rssMb} MB)`, rssOk],
    ];
    out();
    out('targets');
    for (const [what, value, ok] of verdicts) out(`  ${v(ok)}  ${what}: ${value}`);

    out();
    out('markdown (paste as is):');
    out();
    out(
      `Soak (\`npm run soak\`), ${new Date().toISOString().slice(0, 10)}: ${machine}; load average ${loadBefore.toFixed(1)} before, ${loadDuring.toFixed(1)} at the end (shared machine). Two replicas sharing redis-server behind a round-robin proxy, one sandbox process, ${COUNTS.clients} clients (${COUNTS.writers} of them writing) for ${COUNTS.seconds} s, all on loopback.`,
    );
    out();
    out('| figure | result | target |');
    out('|---|---|---|');
    out(`| throughput | ${(calls / elapsed).toFixed(0)} calls/s (${calls} calls) | - |`);
    out(
      `| latency, all calls | p50 ${f1(p50)} ms, p99 ${f1(p99)} ms | p99 <= ${TARGET.p99Ms} ms: ${v(p99 <= TARGET.p99Ms)} |`,
    );
    out(`| errors | ${errors.length} | 0: ${v(errors.length === 0)} |`);
    out(
      `| writes per confirmation token | ${oneWrite ? `exactly 1 (${tokens.length} tokens)` : `${notOne} of ${tokens.length} not 1`} | exactly 1: ${v(oneWrite)} |`,
    );
    for (const i of replicas.keys())
      out(
        `| RSS replica ${i}: before / peak / after | ${f1(rssBefore[i]?.now ?? Number.NaN)} / ${f1(rssAtPeak[i] ?? Number.NaN)} / ${f1(rssAfter[i]?.now ?? Number.NaN)} MB | peak <= ${TARGET.rssMb} MB: ${v((rssAtPeak[i] ?? Number.NaN) <= TARGET.rssMb)} |`,
      );
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const r of replicas) r.child.kill('SIGTERM');
    proxy.child.disconnect();
    sandbox.child.disconnect();
    await redis.stop();
  }
  out();
  out(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const run = role === 'sandbox' ? sandboxRole() : role === 'proxy' ? Promise.resolve(proxyRole()) : main();
run.catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
