import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Agent, request } from 'undici';
import { defaultServerConfig } from '../src/mcp/config.js';
import { rss } from './proc.js';

/*
 * `npm run bench` (`-- --smoke` for a few-second run with tiny counts, as `.ci/run` does): every figure of the
 * server measured next to its reference in the same run, on loopback only:
 *   - the built server (dist/index.js) spawned over stdio and over HTTP, pointed at the sandbox, which runs in
 *     its own process (`divio-mcp sandbox`), as a real API would;
 *   - the reference MCP server `@modelcontextprotocol/server-everything` (dev dependency) and a bare `node`;
 *   - the same API requests a tool call makes, replayed directly with undici against the same sandbox.
 * A small recording proxy in front of the sandbox tells which requests a call makes and which overlap.
 * It reports and never gates: the exit code is 0 unless the benchmark itself breaks.
 */

const SMOKE = process.argv.includes('--smoke') || process.env['BENCH_SMOKE'] === '1';
const COUNTS = SMOKE
  ? { cold: 1, warmup: 1, n: 5, floorN: 5, httpClients: 5, httpSeconds: 1, logLines: 2_000 }
  : { cold: 7, warmup: 10, n: 200, floorN: 500, httpClients: 50, httpSeconds: 20, logLines: 100_000 };

const root = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = `${root}dist/index.js`;
const EVERYTHING = `${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`;
const RESULTS = `${root}bench/results.json`;

// Targets of issue #14.
const T = {
  coldRatio: 0.9,
  addedP50StdioMs: 1,
  addedP50HttpMs: 2,
  modelVisibleBytes: 16_384,
  lastBackupBytes: 2_048,
  httpShareOfRaw: 0.5,
  httpP99Ms: 150,
  peakRssMb: 200,
};

/**
 * The fewest sequential API round trips each read tool needs once the slug → UUID resolution is cached (the
 * resolver caches it; see src/client/resolve.ts), with why. Operation names are the API reference's.
 */
const MINIMUM: Record<string, [number, string]> = {
  list_organisations: [1, 'ListOrganisations'],
  list_applications: [1, 'ListApplications; the organisations it names are an independent read'],
  get_application: [1, 'its environments, read in parallel'],
  get_environment: [
    2,
    'RetrieveEnvironment and its service instances in parallel, then the pending commits the environment names (GetRepositoryCommits with its pending_commits_lookup)',
  ],
  list_backups: [
    3,
    'the count (list order is not trusted), the newest page, then its service-instance backups by ID',
  ],
  get_backup: [
    2,
    'RetrieveBackup, then its service-instance backups and its environment, both by ID from it',
  ],
  list_service_instances: [1, 'ListServiceInstances'],
  list_environment_variables: [1, 'ListEnvironmentVariables'],
  list_domains: [1, 'ListDomains'],
  list_cronjobs: [1, 'ListCronjobs'],
  list_deployments: [1, 'ListDeployments'],
  get_deployment: [2, 'RetrieveDeployment, then its environment (ID from it) for the names'],
  get_deployment_log: [1, 'the deployment and its log are independent reads by ID'],
  diagnose_environment: [
    2,
    'independent reads in parallel, then what the environment names: its pending commits and the failed deployment log, in parallel',
  ],
  get_environment_logs: [1, 'ListEnvironmentLogs'],
};

const out = (s = '') => process.stdout.write(`${s}\n`);
const results: Record<string, unknown> = {};
const verdicts: { figure: string; value: string; reference: string; target: string; pass: boolean }[] = [];

function verdict(figure: string, value: string, reference: string, target: string, pass: boolean): string {
  verdicts.push({ figure, value, reference, target, pass });
  return pass ? 'PASS' : 'MISS';
}

/** Nearest-rank percentile. */
function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

/** CPU seconds (user + system) a process has used so far; Linux only (NaN elsewhere). */
function cpuSeconds(pid: number | null | undefined): number {
  try {
    // The fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Spawns a process and resolves with the first match of `pattern` in its output (stdout or stderr). */
function spawnAndWait(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<{ child: ChildProcess; match: RegExpExecArray }>((resolve, reject) => {
    let seen = '';
    let matched = false;
    const onData = (chunk: Buffer) => {
      // After the match the output is only drained: a server logs a line per call, and keeping and scanning it
      // all would cost this process (which also runs the clients) more CPU with every call.
      if (matched) return;
      seen += chunk.toString('utf8');
      const match = pattern.exec(seen);
      if (match) {
        matched = true;
        seen = '';
        resolve({ child, match });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      if (!matched) reject(new Error(`${args.join(' ')} exited ${code}: ${seen.slice(-500)}`));
    });
  });
}

interface Recorded {
  method: string;
  path: string;
  start: number;
  end: number;
}

const HOLD_MS = 30;

/** A recording HTTP proxy in front of the sandbox: which requests a call made, and when each ran. */
async function startProxy(target: string) {
  const agent = new Agent({ connections: 64 });
  let log: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const headers = { ...req.headers };
        delete headers.host;
        delete headers.connection;
        const r = await request(`${target}${req.url}`, {
          method: (req.method ?? 'GET') as 'GET',
          headers,
          body: body ?? null,
          dispatcher: agent,
        });
        const answer = Buffer.from(await r.body.arrayBuffer());
        // Every answer is held a little, so requests a call sends side by side overlap for certain and
        // requests it sends one after the other cannot: the waves below do not depend on the machine's load.
        await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
        const outHeaders: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(r.headers)) {
          if (v !== undefined && !['transfer-encoding', 'connection', 'keep-alive'].includes(k))
            outHeaders[k] = v;
        }
        res.writeHead(r.statusCode, outHeaders).end(answer);
      } catch (error) {
        res.writeHead(502).end(String(error));
      } finally {
        log.push({ method: req.method ?? 'GET', path: req.url ?? '/', start, end: performance.now() });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take(): Recorded[] {
      const taken = log;
      log = [];
      return taken;
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await agent.close();
    },
  };
}

/** Groups one call's requests into waves: a request is in the wave after the latest request that ended before it started. */
function waves(recorded: Recorded[]): Recorded[][] {
  const sorted = [...recorded].sort((a, b) => a.start - b.start);
  const level = new Map<Recorded, number>();
  for (const r of sorted) {
    let l = 1;
    for (const q of sorted) if (q !== r && q.end <= r.start) l = Math.max(l, (level.get(q) ?? 1) + 1);
    level.set(r, l);
  }
  const out: Recorded[][] = [];
  for (const r of sorted) {
    const l = level.get(r) ?? 1;
    out[l - 1] ??= [];
    out[l - 1]?.push(r);
  }
  return out.filter(Boolean);
}

async function stdioClient(args: string[], env: Record<string, string>) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: { ...getDefaultEnvironment(), ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'divio-mcp-bench', version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: () => transport.pid };
}

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}
const callOf =
  (client: Client) =>
  async (name: string, args: Record<string, unknown>): Promise<ToolResult> =>
    (await client.callTool({ name, arguments: args })) as unknown as ToolResult;

async function main(): Promise<void> {
  const started = performance.now();
  out(`divio-mcp benchmark${SMOKE ? ' (SMOKE: tiny counts, figures not meaningful)' : ''}`);
  const machine = {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
  };
  const loadAtStart = loadavg();
  results['machine'] = { ...machine, loadAverageAtStart: loadAtStart };
  results['smoke'] = SMOKE;
  results['counts'] = COUNTS;
  out(
    `node ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} (1/5/15 min) at the start`,
  );
  out();

  // --- the sandbox in its own process, a recording proxy in front of it ------------------------------------
  const sb = await spawnAndWait(
    [ENTRY, 'sandbox', '--port', '0'],
    { ...getDefaultEnvironment() },
    /DIVIO_API_URL=(\S+)\s+DIVIO_API_TOKEN=(\S+)/,
  );
  const apiUrl = sb.match[1] ?? '';
  const token = sb.match[2] ?? '';
  const proxy = await startProxy(apiUrl);
  const direct = new Agent({ connections: 128 });
  const env = (url: string) => ({ DIVIO_API_URL: url, DIVIO_API_TOKEN: token });

  const children: ChildProcess[] = [sb.child];
  const clients: Client[] = [];
  try {
    // --- 1. cold start: spawn → tools/list answered, interleaved so drift hits all three alike ------------
    const cold = { divio: [] as number[], everything: [] as number[], node: [] as number[] };
    // CPU time of the server process up to its tools/list answer: unlike the wall time, barely moved by the
    // other jobs of a shared machine.
    const coldCpu = { divio: [] as number[], everything: [] as number[] };
    const coldOnce = async (args: string[], e: Record<string, string>, cpu?: number[]) => {
      const t0 = performance.now();
      const c = await stdioClient(args, e);
      await c.client.listTools();
      const t = performance.now() - t0;
      cpu?.push(cpuSeconds(c.pid()) * 1000);
      await c.client.close().catch(() => undefined);
      return t;
    };
    const bareNode = () =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
        child.once('exit', () => resolve(performance.now() - t0));
        child.once('error', reject);
      });
    if (!SMOKE) {
      await coldOnce([ENTRY], env(apiUrl)); // warm the file system cache, not counted
      await coldOnce([EVERYTHING, 'stdio'], {});
    }
    for (let i = 0; i < COUNTS.cold; i++) {
      cold.divio.push(await coldOnce([ENTRY], env(apiUrl), coldCpu.divio));
      cold.everything.push(await coldOnce([EVERYTHING, 'stdio'], {}, coldCpu.everything));
      cold.node.push(await bareNode());
    }
    const coldMed = {
      divio: pct(cold.divio, 50),
      everything: pct(cold.everything, 50),
      node: pct(cold.node, 50),
    };
    const coldRatio = coldMed.divio / coldMed.everything;
    const coldCpuMed = { divio: pct(coldCpu.divio, 50), everything: pct(coldCpu.everything, 50) };
    results['coldStart'] = {
      runs: cold,
      median: coldMed,
      ratio: coldRatio,
      cpuMs: coldCpu,
      cpuMedianMs: coldCpuMed,
    };
    out(`1. cold start, spawn -> tools/list answered, median of ${COUNTS.cold}`);
    out(
      `   divio-mcp ${f1(coldMed.divio)} ms | server-everything ${f1(coldMed.everything)} ms | bare node -e ${f1(coldMed.node)} ms | ratio ${f2(coldRatio)}x (target <= ${T.coldRatio}x) ${verdict('cold start', `${f1(coldMed.divio)} ms`, `server-everything ${f1(coldMed.everything)} ms, node ${f1(coldMed.node)} ms`, `<= ${T.coldRatio}x server-everything`, coldRatio <= T.coldRatio)}`,
    );
    out(
      `   CPU time to the answer (user + system, median): divio-mcp ${f1(coldCpuMed.divio)} ms | server-everything ${f1(coldCpuMed.everything)} ms | ratio ${f2(coldCpuMed.divio / coldCpuMed.everything)}x (for reference; the target is on the wall time)`,
    );
    out();

    // --- servers under test -----------------------------------------------------------------------------
    const counting = await stdioClient([ENTRY], env(proxy.url)); // behind the recording proxy
    const stdio = await stdioClient([ENTRY], env(apiUrl));
    const everything = await stdioClient([EVERYTHING, 'stdio'], {});
    clients.push(counting.client, stdio.client, everything.client);
    const rssAtStart = rss(stdio.pid());
    const httpProc = await spawnAndWait(
      [ENTRY, '--transport', 'http', '--port', '0', '--host', '127.0.0.1'],
      {
        ...getDefaultEnvironment(),
        ...env(apiUrl),
        // All bench clients share one loopback address: lift the per-address limits the load would trip.
        DIVIO_MCP_RATE_LIMIT: '0',
        DIVIO_MCP_MAX_CALLS_PER_CLIENT: String(COUNTS.httpClients),
        DIVIO_MCP_MAX_CALLS: String(COUNTS.httpClients),
      },
      /MCP endpoint (http:\S+\/mcp)/,
    );
    children.push(httpProc.child);
    const mcpUrl = new URL(httpProc.match[1] ?? '');
    const httpClient = async () => {
      const c = new Client({ name: 'divio-mcp-bench', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(mcpUrl));
      clients.push(c);
      return c;
    };
    const http = await httpClient();

    // --- seeded arguments for every read tool ----------------------------------------------------------
    const countingCall = callOf(counting.client);
    const shopLive = { app: 'shop', environment: 'live' };
    const backups = await countingCall('list_backups', { ...shopLive, limit: 5 });
    const backupId = String(
      (backups.structuredContent?.['backups'] as { uuid: string }[] | undefined)?.[0]?.uuid,
    );
    const deployments = await countingCall('list_deployments', { ...shopLive, limit: 5 });
    const deploymentId = String(
      (deployments.structuredContent?.['deployments'] as { uuid: string }[] | undefined)?.[0]?.uuid,
    );
    const READS: [string, Record<string, unknown>][] = [
      ['list_organisations', {}],
      ['list_applications', {}],
      ['get_application', { app: 'shop' }],
      ['get_environment', shopLive],
      ['list_backups', { ...shopLive, limit: 1 }],
      ['get_backup', { backup: backupId }],
      ['list_service_instances', shopLive],
      ['list_environment_variables', shopLive],
      ['list_domains', shopLive],
      ['list_cronjobs', shopLive],
      ['list_deployments', shopLive],
      ['get_deployment', { deployment: deploymentId }],
      ['get_deployment_log', { deployment: deploymentId }],
      ['diagnose_environment', shopLive],
      ['get_environment_logs', shopLive],
    ];

    // --- 3./5. round trips and answer sizes, through the recording proxy --------------------------------
    const cfg = defaultServerConfig({});
    const logCap = 2 * cfg.maxLogBytes + 4_096;
    const shape = new Map<string, { requests: number; depth: number; waves: Recorded[][]; answer: number }>();
    for (const [name, args] of READS) {
      await countingCall(name, args); // warm the resolution cache, as in a conversation
      proxy.take();
      const r = await countingCall(name, args);
      if (r.isError) throw new Error(`${name} failed on the seeded data: ${r.content[0]?.text ?? ''}`);
      const rec = proxy.take();
      const w = waves(rec);
      shape.set(name, { requests: rec.length, depth: w.length, waves: w, answer: bytes(r) });
    }

    // --- 2. added latency per read call: MCP call vs the same requests made directly ---------------------
    const replay = async (w: Recorded[][]) => {
      for (const wave of w) {
        await Promise.all(
          wave.map(async (q) => {
            const r = await request(`${apiUrl}${q.path}`, {
              method: q.method as 'GET',
              headers: { authorization: `Token ${token}`, accept: 'application/json' },
              dispatcher: direct,
            });
            await r.body.arrayBuffer();
          }),
        );
      }
    };
    const sample = async (fn: () => Promise<unknown>, n: number) => {
      for (let i = 0; i < COUNTS.warmup; i++) await fn();
      const times: number[] = [];
      for (let i = 0; i < n; i++) times.push((await timed(fn))[0]);
      return { p50: pct(times, 50), p99: pct(times, 99) };
    };
    const echoCall = callOf(everything.client);
    const floor = await sample(() => echoCall('echo', { message: 'x' }), COUNTS.floorN);
    results['mcpFloorStdio'] = floor;
    const stdioCall = callOf(stdio.client);
    const httpCall = callOf(http);
    const latency: Record<string, unknown> = {};
    out(
      `2./3./5. per read tool (n=${COUNTS.n}); added = MCP call - same API requests made directly with undici; MCP stdio floor (server-everything echo) p50 ${f2(floor.p50)} ms p99 ${f2(floor.p99)} ms`,
    );
    const head = `   ${'tool'.padEnd(27)} ${'direct p50/p99'.padStart(14)} ${'stdio p50/p99'.padStart(14)} ${'added'.padStart(12)} ${'http p50/p99'.padStart(14)} ${'added'.padStart(12)}  trips min  answer B`;
    out(head);
    const addedStdio: number[] = [];
    const addedHttp: number[] = [];
    const tripsMisses: string[] = [];
    for (const [name, args] of READS) {
      const s = shape.get(name);
      if (!s) continue;
      const d = await sample(() => replay(s.waves), COUNTS.n);
      const so = await sample(() => stdioCall(name, args), COUNTS.n);
      const h = await sample(() => httpCall(name, args), COUNTS.n);
      const aS = { p50: so.p50 - d.p50, p99: so.p99 - d.p99 };
      const aH = { p50: h.p50 - d.p50, p99: h.p99 - d.p99 };
      addedStdio.push(aS.p50);
      addedHttp.push(aH.p50);
      const [min, why] = MINIMUM[name] ?? [Number.NaN, 'not stated'];
      if (!(s.depth <= min)) tripsMisses.push(`${name} ${s.depth} > ${min}`);
      latency[name] = {
        direct: d,
        stdio: so,
        http: h,
        addedStdio: aS,
        addedHttp: aH,
        requests: s.requests,
        sequentialRoundTrips: s.depth,
        minimum: min,
        minimumWhy: why,
        requestPaths: s.waves.map((w) => w.map((q) => `${q.method} ${q.path}`)),
        answerBytes: s.answer,
      };
      out(
        `   ${name.padEnd(27)} ${`${f2(d.p50)}/${f2(d.p99)}`.padStart(14)} ${`${f2(so.p50)}/${f2(so.p99)}`.padStart(14)} ${`${f2(aS.p50)}/${f2(aS.p99)}`.padStart(12)} ${`${f2(h.p50)}/${f2(h.p99)}`.padStart(14)} ${`${f2(aH.p50)}/${f2(aH.p99)}`.padStart(12)}  ${String(s.depth).padStart(3)}/${String(s.requests).padEnd(2)} ${String(min).padStart(2)}  ${String(s.answer).padStart(7)}`,
      );
    }
    results['readTools'] = latency;
    const medAddedStdio = pct(addedStdio, 50);
    const medAddedHttp = pct(addedHttp, 50);
    const worstS = Math.max(...addedStdio);
    const worstH = Math.max(...addedHttp);
    out('   (trips: sequential round trips / requests in one warm call; min: the fewest the API allows)');
    out(
      `   added p50 stdio: median over tools ${f2(medAddedStdio)} ms, worst ${f2(worstS)} ms (target <= ${T.addedP50StdioMs} ms) ${verdict('added p50 stdio (worst tool)', `${f2(worstS)} ms (median tool ${f2(medAddedStdio)} ms)`, `direct undici; MCP floor ${f2(floor.p50)} ms`, `<= ${T.addedP50StdioMs} ms`, worstS <= T.addedP50StdioMs)}`,
    );
    out(
      `   added p50 HTTP:  median over tools ${f2(medAddedHttp)} ms, worst ${f2(worstH)} ms (target <= ${T.addedP50HttpMs} ms) ${verdict('added p50 HTTP (worst tool)', `${f2(worstH)} ms (median tool ${f2(medAddedHttp)} ms)`, 'direct undici', `<= ${T.addedP50HttpMs} ms`, worstH <= T.addedP50HttpMs)}`,
    );
    out(
      `   sequential round trips at the stated minimum: ${tripsMisses.length === 0 ? 'all tools' : tripsMisses.join(', ')} ${verdict('sequential API round trips', tripsMisses.length === 0 ? 'all at minimum' : tripsMisses.join(', '), 'stated minimum per tool', 'at the minimum', tripsMisses.length === 0)}`,
    );
    out();

    // --- 4. model-visible definition bytes --------------------------------------------------------------
    const visible = (t: { name: string; description?: string | undefined; inputSchema: unknown }) =>
      bytes({ name: t.name, description: t.description, inputSchema: t.inputSchema });
    const ours = (await counting.client.listTools()).tools.map((t) => ({ name: t.name, bytes: visible(t) }));
    const theirs = (await everything.client.listTools()).tools.map((t) => ({
      name: t.name,
      bytes: visible(t),
    }));
    const total = ours.reduce((s, t) => s + t.bytes, 0);
    const theirTotal = theirs.reduce((s, t) => s + t.bytes, 0);
    const biggest = [...ours].sort((a, b) => b.bytes - a.bytes)[0];
    results['modelVisible'] = { ours, everything: theirs, total, everythingTotal: theirTotal };
    out('4. model-visible definitions (name + description + input schema)');
    out(
      `   divio-mcp ${ours.length} tools, ${total} B total, ${Math.round(total / ours.length)} B per tool (largest ${biggest?.name} ${biggest?.bytes} B) | server-everything ${theirs.length} tools, ${Math.round(theirTotal / theirs.length)} B per tool | ${verdict('model-visible bytes', `${total} B`, `server-everything ${Math.round(theirTotal / theirs.length)} B/tool`, `<= ${T.modelVisibleBytes} B`, total <= T.modelVisibleBytes)}`,
    );
    out(`   per tool: ${ours.map((t) => `${t.name} ${t.bytes}`).join(', ')}`);
    out();

    // --- 5. answer sizes -------------------------------------------------------------------------------
    const oversize = READS.map(([name]) => [name, shape.get(name)?.answer ?? 0] as const).filter(
      ([name, b]) => (name.includes('log') ? b > logCap : false),
    );
    const lastBackup = shape.get('list_backups')?.answer ?? Number.NaN;
    const biggestAnswer = Math.max(...READS.map(([name]) => shape.get(name)?.answer ?? 0));
    out('5. answer sizes on the seeded data (whole CallToolResult JSON; column "answer B" above)');
    out(
      `   log answers within the cap (2 x ${cfg.maxLogBytes} B log text + 4 KB framing = ${logCap} B): ${oversize.length === 0 ? 'yes' : oversize.map(([n, b]) => `${n} ${b} B`).join(', ')} ${verdict('log answers within cap', oversize.length === 0 ? `largest answer ${biggestAnswer} B` : 'over', `cap ${logCap} B`, 'within the cap', oversize.length === 0)}`,
    );
    out(
      `   "last backup of live" (list_backups limit 1): ${lastBackup} B ${verdict('last backup of live', `${lastBackup} B`, '-', `< ${T.lastBackupBytes} B`, lastBackup < T.lastBackupBytes)}`,
    );
    out();

    // --- 6. HTTP: concurrent clients for a fixed time, vs raw sandbox throughput ------------------------
    const gw = shape.get('get_environment')?.waves ?? [];
    const runFor = async (workers: number, fn: (worker: number) => Promise<boolean>) => {
      const times: number[] = [];
      let errors = 0;
      const end = performance.now() + COUNTS.httpSeconds * 1000;
      await Promise.all(
        Array.from({ length: workers }, async (_, worker) => {
          while (performance.now() < end) {
            const [t, ok] = await timed(() => fn(worker).catch(() => false));
            times.push(t);
            if (!ok) errors++;
          }
        }),
      );
      return {
        calls: times.length,
        perSecond: times.length / COUNTS.httpSeconds,
        errors,
        p50: pct(times, 50),
        p99: pct(times, 99),
      };
    };
    const raw = await runFor(COUNTS.httpClients, async () => {
      await replay(gw);
      return true;
    });
    const pool = [http];
    while (pool.length < COUNTS.httpClients) pool.push(await httpClient());
    // One MCP client (its own session) per worker.
    const httpCpu0 = cpuSeconds(httpProc.child.pid);
    const load = await runFor(COUNTS.httpClients, async (worker) => {
      const c = pool[worker] ?? http;
      const r = await callOf(c)('get_environment', shopLive);
      return !r.isError;
    });
    const share = load.perSecond / raw.perSecond;
    const httpCpuPerCallMs = ((cpuSeconds(httpProc.child.pid) - httpCpu0) * 1000) / load.calls;
    const rssAfterHttp = rss(httpProc.child.pid);
    results['http'] = {
      raw,
      mcp: load,
      share,
      rssAfterHttpMb: rssAfterHttp,
      serverCpuPerCallMs: httpCpuPerCallMs,
    };
    out(
      `6. HTTP: ${COUNTS.httpClients} concurrent clients, ${COUNTS.httpSeconds} s, get_environment shop/live`,
    );
    out(
      `   divio-mcp ${load.perSecond.toFixed(0)} calls/s, p50 ${f1(load.p50)} ms, p99 ${f1(load.p99)} ms, ${load.errors} errors | raw sandbox (same requests, undici) ${raw.perSecond.toFixed(0)}/s, p99 ${f1(raw.p99)} ms | ${(100 * share).toFixed(0)}% of raw`,
    );
    out(
      `   server CPU per call (user + system over the run / calls): ${f2(httpCpuPerCallMs)} ms; load average now ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const httpOk = share >= T.httpShareOfRaw && load.errors === 0 && load.p99 <= T.httpP99Ms;
    out(
      `   ${verdict(`HTTP ${COUNTS.httpClients} clients`, `${(100 * share).toFixed(0)}% of raw, ${load.errors} errors, p99 ${f1(load.p99)} ms`, `raw ${raw.perSecond.toFixed(0)}/s`, `>= ${100 * T.httpShareOfRaw}%, 0 errors, p99 <= ${T.httpP99Ms} ms`, httpOk)}`,
    );
    out();

    // --- 7. memory: the server processes' RSS --------------------------------------------------------------
    let lines = 0;
    let cursor: unknown;
    while (lines < COUNTS.logLines) {
      const r = await stdioCall('get_environment_logs', {
        ...shopLive,
        limit: 1000,
        ...(typeof cursor === 'string' ? { cursor } : {}),
      });
      const got = (r.structuredContent?.['entries'] as unknown[] | undefined)?.length ?? 0;
      if (r.isError || got === 0) throw new Error('log read failed');
      lines += got;
      cursor = r.structuredContent?.['next_cursor'];
    }
    const rssAfterLogs = rss(stdio.pid());
    const peak = Math.max(rssAfterLogs.peak, rssAfterHttp.peak);
    results['memory'] = { rssAtStart, rssAfterHttp, rssAfterLogs, logLinesRead: lines, peakMb: peak };
    out('7. memory of the server process (RSS; peak = VmHWM)');
    out(
      `   stdio at start ${f1(rssAtStart.now)} MB | HTTP server after the HTTP run ${f1(rssAfterHttp.now)} MB (peak ${f1(rssAfterHttp.peak)}) | stdio after reading ${lines} log lines ${f1(rssAfterLogs.now)} MB (peak ${f1(rssAfterLogs.peak)})`,
    );
    out(
      `   ${verdict('peak RSS', `${f1(peak)} MB`, `start ${f1(rssAtStart.now)} MB`, `<= ${T.peakRssMb} MB`, peak <= T.peakRssMb)}`,
    );
    out();
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const c of children) c.kill('SIGTERM');
    await proxy.close();
    await direct.close();
  }

  out('targets');
  for (const v of verdicts)
    out(
      `  ${v.pass ? 'PASS' : 'MISS'}  ${v.figure}: ${v.value} (reference: ${v.reference}; target ${v.target})`,
    );
  results['verdicts'] = verdicts;
  results['seconds'] = (performance.now() - started) / 1000;
  results['loadAverageAtEnd'] = loadavg();
  mkdirSync(`${root}bench`, { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  out();
  out(
    `done in ${((performance.now() - started) / 1000).toFixed(1)} s; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1/5/15 min) at the end; figures written to bench/results.json`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
