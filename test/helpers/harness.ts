import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, InMemoryTransport, type McpServer } from '@modelcontextprotocol/server';
import type { Dispatcher } from 'undici';
import { DivioClient } from '../../src/client/index.js';
import { defaultServerConfig, type ServerConfig } from '../../src/mcp/config.js';
import { createLogger, type Logger } from '../../src/mcp/log.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { createServerFactory } from '../../src/server.js';
import type { SharedState } from '../../src/state/index.js';
import { FakeClock } from './clock.js';
import { sharedValidator } from './validator.js';

export type Era = 'legacy' | 'modern';

/** The server's real logger (JSON lines, debug and up), writing into `lines` instead of stderr. */
export function collectingLogger(lines: string[]): Logger {
  return createLogger({ level: 'debug', destination: { write: (line) => void lines.push(line.trimEnd()) } });
}
export const ERAS: Era[] = ['legacy', 'modern'];

/** The server's log as it writes it (stderr, --log-file): one JSON object per line. */
export type LogLine = Record<string, unknown>;
export function jsonLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

type ElicitHandler = (params: {
  message: string;
  requestedSchema?: unknown;
}) =>
  | { action: 'accept'; content: Record<string, string | number | boolean | string[]> }
  | { action: 'decline' | 'cancel' };

export interface HarnessOptions {
  era?: Era;
  config?: Partial<ServerConfig>;
  sandbox?: SandboxOptions;
  /** The token the server's client sends (default: the sandbox's own, i.e. a valid one). */
  clientToken?: string;
  /** Answers form elicitations; when omitted the client does not declare the capability. */
  elicit?: ElicitHandler;
  /** The Divio client's per-request timeout (default 30 s). */
  clientTimeoutMs?: number;
  /** An undici dispatcher for the Divio client (e.g. one that records every request); the caller closes it. */
  dispatcher?: Dispatcher;
  /** Shared state (e.g. a RedisState); default: the process's memory. */
  state?: SharedState;
  /** Declares MCP Apps support (the `io.modelcontextprotocol/ui` extension), as a host that renders views does. */
  apps?: boolean;
  /**
   * The clock the sandbox, the server's waits and the client's retries share (default: a new auto FakeClock,
   * so operations finish without real waiting; pass a manual one to act while an operation is under way).
   */
  clock?: FakeClock;
}

export interface Harness {
  sandbox: Sandbox;
  clock: FakeClock;
  divio: DivioClient;
  mcp: Client;
  config: ServerConfig;
  /** Lines the server wrote to its log (stderr in production): diagnostics and audit lines. */
  logs: string[];
  elicitations: { message: string }[];
  call: (
    name: string,
    args?: Record<string, unknown>,
    opts?: {
      onprogress?: (p: { progress: number; total?: number; message?: string }) => void;
      signal?: AbortSignal;
    },
  ) => Promise<ToolResult>;
  close: () => Promise<void>;
}

export interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string; uri?: string; name?: string }[];
  structuredContent?: Record<string, unknown>;
}

/** Short sandbox timings: few polls per operation (simulated time on the fake clock, so no real waiting). */
export const FAST = { deployMs: 400, backupMs: 300, restoreMs: 300, downloadMs: 200 };

export function textOf(result: ToolResult): string {
  return result.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** A real MCP Client connected to a server factory in the given protocol era (see startHarness). */
async function connectMcp(
  factory: () => McpServer,
  era: Era,
  elicit: ElicitHandler | undefined,
  apps = false,
): Promise<{ mcp: Client; elicitations: { message: string }[]; closeServer: () => Promise<void> }> {
  const elicitations: { message: string }[] = [];
  const mcp = new Client(
    { name: 'divio-mcp-tests', version: '1.0.0' },
    {
      capabilities: {
        ...(elicit ? { elicitation: { form: {} } } : {}),
        ...(apps
          ? { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } } }
          : {}),
      },
      versionNegotiation: { mode: era === 'legacy' ? 'legacy' : { pin: '2026-07-28' } },
      jsonSchemaValidator: sharedValidator,
    },
  );
  if (elicit) {
    const handler = elicit;
    mcp.setRequestHandler('elicitation/create', async (request) => {
      const params = request.params as { message: string; requestedSchema?: unknown };
      elicitations.push({ message: params.message });
      return handler(params);
    });
  }
  let closeServer: () => Promise<void>;
  if (era === 'modern') {
    const handler = createMcpHandler(factory);
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL('http://divio-mcp.test/mcp'), {
        fetch: (url, init) => handler.fetch(new Request(url, init)),
      }),
    );
    closeServer = () => handler.close();
  } else {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = factory();
    await server.connect(serverSide);
    await mcp.connect(clientSide);
    closeServer = () => server.close();
  }
  return { mcp, elicitations, closeServer };
}

/**
 * A sandbox, the shared Divio client, and a real MCP Client connected to our server factory:
 * 2026-07-28 through the stateless HTTP handler (in-process fetch, no socket), 2025-era through a linked
 * in-memory pair, which is how a stdio client sees the server (elicitation is pushed to the client).
 */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const era = opts.era ?? 'modern';
  const clock = opts.clock ?? new FakeClock();
  const sandbox = await startSandbox({ timings: FAST, clock, ...opts.sandbox });
  const divio = new DivioClient({
    clock,
    token: opts.clientToken ?? sandbox.token,
    baseUrl: sandbox.url,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    timeoutMs: opts.clientTimeoutMs,
    dispatcher: opts.dispatcher,
    sharedCache: opts.state,
  });
  const config = defaultServerConfig({ pollIntervalMs: 50, ...opts.config });
  const logs: string[] = [];
  const factory = createServerFactory({
    client: divio,
    config,
    log: collectingLogger(logs),
    state: opts.state,
    clock,
  });
  const { mcp, elicitations, closeServer } = await connectMcp(factory, era, opts.elicit, opts.apps);
  let closed = false;
  return {
    sandbox,
    clock,
    divio,
    mcp,
    config,
    logs,
    elicitations,
    call: async (name, args = {}, callOpts = {}) =>
      (await mcp.callTool(
        { name, arguments: args },
        callOpts as Parameters<Client['callTool']>[1],
      )) as unknown as ToolResult,
    close: async () => {
      if (closed) return;
      closed = true;
      await mcp.close().catch(() => undefined);
      await closeServer().catch(() => undefined);
      await divio.close();
      await sandbox.close();
    },
  };
}

export interface DispatcherHarnessOptions {
  /** Answers every API request (tests pass an undici MockAgent with net connect disabled). */
  dispatcher: Dispatcher;
  /** The API origin the dispatcher answers for. */
  baseUrl: string;
  era?: Era;
  config?: Partial<ServerConfig>;
  /** See HarnessOptions.clock. */
  clock?: FakeClock;
}

export type DispatcherHarness = Omit<Harness, 'sandbox' | 'elicitations'>;

/** Like startHarness, but the Divio client talks to an injected dispatcher instead of a sandbox. */
export async function startDispatcherHarness(opts: DispatcherHarnessOptions): Promise<DispatcherHarness> {
  const clock = opts.clock ?? new FakeClock();
  const divio = new DivioClient({
    clock,
    token: 'fixture-token-0123456789abcdef0123456789',
    baseUrl: opts.baseUrl,
    dispatcher: opts.dispatcher,
    retry: { maxRetries: 0 },
  });
  const config = defaultServerConfig({ pollIntervalMs: 50, ...opts.config });
  const logs: string[] = [];
  const factory = createServerFactory({ client: divio, config, log: collectingLogger(logs), clock });
  const { mcp, closeServer } = await connectMcp(factory, opts.era ?? 'modern', undefined);
  let closed = false;
  return {
    clock,
    divio,
    mcp,
    config,
    logs,
    call: async (name, args = {}, callOpts = {}) =>
      (await mcp.callTool(
        { name, arguments: args },
        callOpts as Parameters<Client['callTool']>[1],
      )) as unknown as ToolResult,
    close: async () => {
      if (closed) return;
      closed = true;
      await mcp.close().catch(() => undefined);
      await closeServer().catch(() => undefined);
      await divio.close();
    },
  };
}
