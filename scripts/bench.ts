import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { DivioClient } from '../src/client/index.js';
import { defaultServerConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startSandbox } from '../src/sandbox/index.js';
import { createServerFactory } from '../src/server.js';

// `npm run bench`: speed and memory figures of the server against the embedded sandbox, through a real MCP
// client. It reports and never gates: targets get PASS/MISS next to the figure, the exit code stays 0 unless
// the benchmark itself breaks. The workload is fixed (counts, arguments, fault seed) so runs compare.

const out = (s = '') => process.stdout.write(`${s}\n`);

const COLD_RUNS = 5;
const WARMUP = 3;
const N = 40;
const N_SLOW = 20;
const N_BACKUP = 8;
const THROUGHPUT_CALLS = 400;
const CONCURRENCY = 8;
const FAULT_CALLS = 50;

// What a model is shown: name, description and input schema of every tool (output schemas go to the client).
const TARGET_MODEL_VISIBLE_BYTES = 16_384;
const TARGET_DIAGNOSE_P95_MS = 500;
const TARGET_COLD_START_MS = 1_500;

interface Row {
  op: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
  note: string;
}

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

const rows: Row[] = [];
const verdicts: string[] = [];

/** Nearest-rank percentile of an ascending list. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

function row(op: string, times: number[], note = ''): Row {
  const sorted = [...times].sort((a, b) => a - b);
  const r = { op, n: sorted.length, p50: pct(sorted, 50), p95: pct(sorted, 95), max: pct(sorted, 100), note };
  rows.push(r);
  return r;
}

function verdict(name: string, figure: string, target: string, ok: boolean): string {
  const v = `${ok ? 'PASS' : 'MISS'}  ${name}: ${figure} (target ${target})`;
  verdicts.push(v);
  return ok ? 'PASS' : 'MISS';
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

function memory(label: string): string {
  const m = process.memoryUsage();
  return `${label.padEnd(22)} rss ${mb(m.rss).padStart(9)}   heapUsed ${mb(m.heapUsed).padStart(9)}`;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

/** Spawn the built server on stdio and time spawn → first tools/list answered. */
async function coldStart(entry: string): Promise<number> {
  const t0 = performance.now();
  const client = new Client({ name: 'divio-mcp-bench', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, '--sandbox', '--speed', '20'],
    env: getDefaultEnvironment(),
    stderr: 'ignore',
  });
  try {
    await client.connect(transport);
    await client.listTools();
    return performance.now() - t0;
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  out(
    'divio-mcp benchmark: embedded sandbox, real MCP client (2026-07-28 in-process HTTP; stdio for start-up)',
  );
  out(
    `node ${process.version}, ${process.platform}/${process.arch}, gc ${global.gc ? 'exposed' : 'not exposed'}`,
  );
  out();

  // --- cold start over stdio ---------------------------------------------------------------------------
  const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  await coldStart(entry); // warm-up: file system cache, not counted
  const cold: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) cold.push(await coldStart(entry));
  const coldRow = row('cold start stdio → tools/list', cold);
  coldRow.note = `target p95 < ${TARGET_COLD_START_MS} ms: ${verdict('cold start p95', `${ms(coldRow.p95)} ms`, `< ${TARGET_COLD_START_MS} ms`, coldRow.p95 < TARGET_COLD_START_MS)}`;

  // --- in-process server ---------------------------------------------------------------------------------
  const sandbox = await startSandbox({
    timings: { deployMs: 300, backupMs: 200, restoreMs: 200, downloadMs: 100 },
  });
  const divio = new DivioClient({ token: sandbox.token, baseUrl: sandbox.url });
  const config = defaultServerConfig({ pollIntervalMs: 50, confirmMode: 'none' });
  let auditLines = 0;
  // Lines go through the real logger (JSON formatting included), counted instead of written.
  const log = createLogger({
    destination: { write: (line: string) => void (line.includes('"type":"audit"') && auditLines++) },
  });
  const factory = createServerFactory({ client: divio, config, log });
  const handler = createMcpHandler(factory);
  const mcp = new Client(
    { name: 'divio-mcp-bench', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL('http://divio-mcp.bench/mcp'), {
      fetch: (url, init) => handler.fetch(new Request(url, init)),
    }),
  );
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await mcp.callTool({ name, arguments: args })) as unknown as ToolResult;

  global.gc?.(); // with --expose-gc, start from a collected heap so before and after-GC compare
  const memBefore = memory('before workload');

  /** Warm up, then time `n` sequential calls; failed calls are counted in the note, not hidden. */
  const bench = async (op: string, n: number, name: string, args: Record<string, unknown> = {}) => {
    for (let i = 0; i < WARMUP; i++) await call(name, args);
    const times: number[] = [];
    let errors = 0;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const [t, r] = await timed(() => call(name, args));
      times.push(t);
      if (r.isError) errors++;
      size = Math.max(size, bytes(r));
    }
    const r = row(op, times, errors ? `${errors} errors` : '');
    return { row: r, size };
  };

  // tools/list
  for (let i = 0; i < WARMUP; i++) await mcp.listTools();
  const listTimes: number[] = [];
  let toolsBytes = 0;
  let listBytes = 0;
  let toolCount = 0;
  for (let i = 0; i < N; i++) {
    const [t, r] = await timed(() => mcp.listTools());
    listTimes.push(t);
    toolsBytes = r.tools.reduce(
      (sum, t) => sum + bytes({ name: t.name, description: t.description, inputSchema: t.inputSchema }),
      0,
    );
    listBytes = bytes({ tools: r.tools });
    toolCount = r.tools.length;
  }
  row(
    'tools/list',
    listTimes,
    `${toolCount} tools, ${toolsBytes} B model-visible (<= ${TARGET_MODEL_VISIBLE_BYTES}): ${verdict('model-visible definitions', `${toolsBytes} B`, `<= ${TARGET_MODEL_VISIBLE_BYTES} B`, toolsBytes <= TARGET_MODEL_VISIBLE_BYTES)}`,
  );

  const shopLive = { app: 'shop', environment: 'live' };
  await bench('list_applications', N, 'list_applications');
  await bench('get_environment shop/live', N, 'get_environment', shopLive);
  const diag = await bench('diagnose_environment shop/live', N_SLOW, 'diagnose_environment', shopLive);
  diag.row.note = [
    diag.row.note,
    `target p95 < ${TARGET_DIAGNOSE_P95_MS} ms: ${verdict('diagnose p95', `${ms(diag.row.p95)} ms`, `< ${TARGET_DIAGNOSE_P95_MS} ms`, diag.row.p95 < TARGET_DIAGNOSE_P95_MS)}`,
  ]
    .filter(Boolean)
    .join('; ');

  const logSizes: string[] = [];
  for (const limit of [100, 1000]) {
    const b = await bench(`get_environment_logs limit ${limit}`, N_SLOW, 'get_environment_logs', {
      ...shopLive,
      limit,
    });
    const sample = await call('get_environment_logs', { ...shopLive, limit });
    const cut = Number(sample.structuredContent?.['cut'] ?? 0);
    b.row.note = [b.row.note, `result ${b.size} B, ${cut} entries cut`].filter(Boolean).join('; ');
    logSizes.push(
      `get_environment_logs limit ${limit}: result ${b.size} B (log text cap ${config.maxLogBytes} B)`,
    );
  }

  // create_backup end to end: start, progress polling, finished
  {
    const args = { app: 'shop', environment: 'test', services: ['database'] };
    await call('create_backup', args);
    const times: number[] = [];
    let failed = 0;
    for (let i = 0; i < N_BACKUP; i++) {
      const [t, r] = await timed(() => call('create_backup', args));
      times.push(t);
      if (r.isError || r.structuredContent?.['finished'] !== true) failed++;
    }
    row('create_backup shop/test (sandbox 200 ms)', times, failed ? `${failed} not finished` : '');
  }
  sandbox.clearRequestLog();

  // throughput: fixed count of get_environment calls from 8 concurrent callers
  let throughputNote = '';
  {
    for (let i = 0; i < CONCURRENCY; i++) await call('get_environment', shopLive);
    const times: number[] = [];
    let next = 0;
    let errors = 0;
    const worker = async () => {
      while (next < THROUGHPUT_CALLS) {
        next++;
        const [t, r] = await timed(() => call('get_environment', shopLive));
        times.push(t);
        if (r.isError) errors++;
      }
    };
    const [elapsed] = await timed(() => Promise.all(Array.from({ length: CONCURRENCY }, worker)));
    const perSecond = (THROUGHPUT_CALLS / elapsed) * 1000;
    throughputNote = `${perSecond.toFixed(0)} calls/s (${THROUGHPUT_CALLS} calls, ${CONCURRENCY} callers, ${(elapsed / 1000).toFixed(2)} s)`;
    row(
      `get_environment x${CONCURRENCY} concurrent`,
      times,
      [`${perSecond.toFixed(0)} calls/s`, errors ? `${errors} errors` : ''].filter(Boolean).join('; '),
    );
  }
  sandbox.clearRequestLog();

  // faults: 20% of API requests answer 503; the client's GET retries should hide most of them
  let faultNote = '';
  {
    sandbox.faults.set({ errorRate: 0.2, errorRateSeed: 1 });
    const times: number[] = [];
    let ok = 0;
    for (let i = 0; i < FAULT_CALLS; i++) {
      const [t, r] = await timed(() =>
        call('list_applications').catch(() => ({ isError: true, content: [] })),
      );
      times.push(t);
      if (!r.isError) ok++;
    }
    sandbox.faults.reset();
    const requests = sandbox.requestLog.length;
    const injected = sandbox.requestLog.filter((e) => e.fault === 'error').length;
    const rate = (100 * ok) / FAULT_CALLS;
    faultNote = `${ok}/${FAULT_CALLS} succeeded (${rate.toFixed(0)}%); ${injected} of ${requests} API requests got an injected 5xx`;
    row(
      'list_applications, 20% API 5xx',
      times,
      `${rate.toFixed(0)}% ok; ${injected}/${requests} 5xx injected`,
    );
  }
  sandbox.clearRequestLog();

  const memAfter = memory('after workload');
  let memGc = '';
  if (global.gc) {
    global.gc();
    memGc = memory('after forced GC');
  }

  await mcp.close().catch(() => undefined);
  await handler.close().catch(() => undefined);
  await divio.close();
  await sandbox.close();

  // --- report ------------------------------------------------------------------------------------------
  const opWidth = Math.max(9, ...rows.map((r) => r.op.length));
  const header = `${'operation'.padEnd(opWidth)}  ${'n'.padStart(4)}  ${'p50 ms'.padStart(8)}  ${'p95 ms'.padStart(8)}  ${'max ms'.padStart(8)}  notes`;
  out(header);
  out('-'.repeat(header.length + 20));
  for (const r of rows) {
    out(
      `${r.op.padEnd(opWidth)}  ${String(r.n).padStart(4)}  ${ms(r.p50).padStart(8)}  ${ms(r.p95).padStart(8)}  ${ms(r.max).padStart(8)}  ${r.note}`.trimEnd(),
    );
  }
  out();
  out('sizes');
  out(
    `  tools/list: ${toolCount} tools, ${toolsBytes} B shown to a model (name, description, input schema; budget ${TARGET_MODEL_VISIBLE_BYTES} B), ${listBytes} B of JSON in all`,
  );
  for (const s of logSizes) out(`  ${s}`);
  out();
  out(`throughput  get_environment: ${throughputNote}`);
  out(`faults      list_applications: ${faultNote}`);
  out();
  out('memory (this process: sandbox, server and client together)');
  out(`  ${memBefore}`);
  out(`  ${memAfter}`);
  out(`  ${memGc || 'after forced GC        (run node --expose-gc .build/scripts/bench.js to see it)'}`);
  out();
  out('targets');
  for (const v of verdicts) out(`  ${v}`);
  out();
  out(`done in ${((performance.now() - started) / 1000).toFixed(1)} s (${auditLines} audit lines written)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
