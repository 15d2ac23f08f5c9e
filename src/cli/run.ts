import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { clientOptionsFromEnv, DivioClient, VERSION } from '../client/index.js';
import { ConfigError } from '../mcp/config.js';
import { createLogger, type Logger } from '../mcp/log.js';
import { createServerFactory, WRITE_TOOL_NAMES } from '../server.js';
import { MemoryState, type SharedState } from '../state/index.js';
import type { CliOptions } from './args.js';
import { OAuthGate } from './auth.js';
import { Drain } from './drain.js';
import { plainLog } from './plain-log.js';
import { DivioTokenCheck } from './readiness.js';
import { DrainingTransport } from './stdio.js';

// What `divio-mcp serve`, `sandbox` and `doctor` run, loaded by ./main.ts once the arguments are known to be
// good: `--help`, `--version`, `config` and usage errors answer without loading the MCP SDK or the server.

/** Plain text on stderr until the server's log exists, JSON lines after. */
let log: Logger = plainLog;

/** The log errors go to: the server's once it exists. */
export function currentLog(): Logger {
  return log;
}

// Loaded when used, so a stdio start does not load the HTTP transport, the sandbox, the doctor, Redis (ioredis),
// metrics (prom-client) or OAuth (jose) (measured by `npm run bench` and `--cpu-prof`: loading and compiling
// modules is most of the cold start).
const startSandbox = async (...args: Parameters<typeof import('../sandbox/index.js').startSandbox>) =>
  (await import('../sandbox/index.js')).startSandbox(...args);

export async function runSandboxOnly(opts: CliOptions): Promise<void> {
  const sandbox = await startSandbox({ port: opts.port, host: opts.host, speed: opts.sandboxSpeed });
  process.stdout.write(
    `Divio API sandbox listening.\n  DIVIO_API_URL=${sandbox.url}\n  DIVIO_API_TOKEN=${sandbox.token}\nPress Ctrl-C to stop.\n`,
  );
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function serve(opts: CliOptions): Promise<void> {
  try {
    log = createLogger({ level: opts.logLevel, file: opts.logFile });
  } catch (error) {
    throw new ConfigError(
      `--log-file ${JSON.stringify(opts.logFile)} cannot be opened for appending (${error instanceof Error ? error.message : String(error)}). Choose a writable path, or leave it out to log on stderr only.`,
    );
  }
  if (opts.transport === 'stdio') {
    // stdout is the JSON-RPC channel: route any stray console output to stderr.
    console.log = console.error;
    console.info = console.error;
    console.debug = console.error;
  }
  let clientOptions = clientOptionsFromEnv(process.env);
  let closeSandbox: (() => Promise<void>) | undefined;
  if (opts.sandbox) {
    const sandbox = await startSandbox({ speed: opts.sandboxSpeed });
    clientOptions = {
      token: sandbox.token,
      baseUrl: sandbox.url,
      credentials: { token: sandbox.token, source: 'the embedded sandbox', warnings: [] },
    };
    closeSandbox = () => sandbox.close();
    log.info(`using the embedded sandbox at ${sandbox.url} (simulated data, no Divio account needed)`);
  } else {
    for (const warning of clientOptions.credentials.warnings) log.warn(warning);
    if (clientOptions.token) {
      log.info(`Divio token from ${clientOptions.credentials.source}`);
    } else {
      log.warn(
        'no Divio token found (DIVIO_API_TOKEN is not set and no netrc entry from `divio login` matches this zone). The server starts, but every tool will answer how to create a token. Use --sandbox to try it without an account.',
      );
    }
    if (clientOptions.proxy) log.info('reaching the Divio API through the proxy from HTTP_PROXY/HTTPS_PROXY');
  }
  for (const notice of opts.notices) log.warn(notice);
  if (opts.config.confirmMode === 'none') {
    log.warn('confirm mode is "none": write tools run without asking anyone.');
  }
  let state: SharedState = new MemoryState();
  if (opts.redisUrl) {
    const { RedisState } = await import('../state/redis.js');
    const redis = new RedisState(opts.redisUrl);
    state = redis;
    if (await redis.connect()) log.info(`shared state in Redis at ${redis.where}`);
    else
      log.warn(
        `Redis at ${redis.where} (DIVIO_MCP_REDIS_URL) is unreachable; retrying in the background. Until it answers, writes are refused, reads work, and /readyz answers 503.`,
      );
  }
  // Prometheus metrics exist in HTTP mode only: a stdio server has nowhere to serve them.
  const metrics = opts.transport === 'http' ? new (await import('./metrics.js')).Metrics() : undefined;
  const client = new DivioClient({ ...clientOptions, sharedCache: state, observer: metrics });
  const drain = new Drain();
  const factory = createServerFactory({
    client,
    config: opts.config,
    log,
    stopWaiting: drain.stopWaiting,
    state,
    telemetry: metrics,
  });

  let exiting = false;
  const shutdown = async (closeTransport: () => Promise<void>, code = 0) => {
    if (exiting) return;
    exiting = true;
    await closeTransport().catch(() => undefined);
    await client.close().catch(() => undefined);
    await state.close().catch(() => undefined);
    await closeSandbox?.().catch(() => undefined);
    // Answers and audit lines are written before the process goes.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(code);
  };

  /*
   * SIGTERM/SIGINT: stop taking requests, give the ones in flight until the deadline (long waits stop a
   * little before it and answer with their operation's handle), then exit 0. A second signal exits at once.
   */
  const onSignal = (closeTransport: () => Promise<void>) => (signal: NodeJS.Signals) => {
    if (drain.draining) {
      log.warn(`${signal} again: exiting without waiting for ${drain.inFlight} open request(s).`);
      process.exit(1);
    }
    log.info(
      `${signal}: draining (no new requests; ${drain.inFlight} in flight get up to ${opts.drainSeconds} s).`,
    );
    void drain.begin(opts.drainSeconds * 1000).then((how) => {
      if (how === 'deadline')
        log.warn(`drain deadline reached with ${drain.inFlight} request(s) unanswered; exiting.`);
      else log.info('drained; exiting.');
      return shutdown(closeTransport, how === 'clean' ? 0 : 1);
    });
  };

  if (opts.transport === 'http') {
    const { startHttpServer } = await import('./http.js');
    const tokenCheck = new DivioTokenCheck(client);
    const http = await startHttpServer(factory, {
      host: opts.host,
      port: opts.port,
      authToken: opts.authToken,
      oauth: opts.oauth && new OAuthGate(opts.oauth, { writeTools: WRITE_TOOL_NAMES, log }),
      allowedHosts: opts.allowedHosts,
      limits: opts.httpLimits,
      drain,
      state,
      readyChecks: [() => tokenCheck.check()],
      metrics,
      metricsPort: opts.metricsPort,
      log,
    });
    const base = http.url.replace(/\/mcp$/, '');
    log.info(
      `divio-mcp ${VERSION}: MCP endpoint ${http.url} (liveness: ${base}/healthz, readiness: ${base}/readyz, metrics: ${http.metricsUrl ?? `${base}/metrics`})`,
    );
    process.on('SIGINT', onSignal(http.close));
    process.on('SIGTERM', onSignal(http.close));
    return;
  }
  const handle = serveStdio(factory, { transport: new DrainingTransport(new StdioServerTransport(), drain) });
  log.info(`divio-mcp ${VERSION}: serving MCP on stdio`);
  // The client closed its end: nobody is left to answer, so there is nothing to drain.
  process.stdin.on('end', () => void shutdown(() => handle.close()));
  process.on(
    'SIGINT',
    onSignal(() => handle.close()),
  );
  process.on(
    'SIGTERM',
    onSignal(() => handle.close()),
  );
}

/** `divio-mcp doctor`: is this machine ready to serve? Exit code 0 when it is, 1 when a check failed. */
export async function doctor(opts: CliOptions): Promise<void> {
  let clientOptions = clientOptionsFromEnv(process.env);
  let closeSandbox: (() => Promise<void>) | undefined;
  if (opts.sandbox) {
    const sandbox = await startSandbox({ speed: opts.sandboxSpeed });
    closeSandbox = () => sandbox.close();
    clientOptions = {
      token: sandbox.token,
      baseUrl: sandbox.url,
      credentials: { token: sandbox.token, source: 'the embedded sandbox (--sandbox)', warnings: [] },
    };
  }
  const { formatDoctor, runDoctor } = await import('./doctor.js');
  const report = await runDoctor({ env: process.env, client: clientOptions, config: opts.config });
  await closeSandbox?.();
  process.stdout.write(formatDoctor(report));
  process.exitCode = report.ready ? 0 : 1;
}
