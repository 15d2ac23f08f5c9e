import { ConfigError } from '../mcp/config.js';

/** Abuse limits of the HTTP transport; each one is set by an environment variable (see the README). */
export interface HttpLimits {
  /** A connection must finish sending its request headers within this time, or it is closed (408). */
  headersTimeoutMs: number;
  /** A request (headers and body) must arrive completely within this time. Responses are not limited. */
  requestTimeoutMs: number;
  /** Most JSON-RPC messages one POST may carry (2025-era clients may batch). */
  maxBatch: number;
  /** Most tool calls one client may have running at once. */
  maxCallsPerClient: number;
  /** Most tool calls the whole server runs at once. */
  maxCalls: number;
  /** JSON-RPC requests one client may send per minute; 0 turns the limit off. */
  ratePerMinute: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxBatch: 10,
  maxCallsPerClient: 10,
  maxCalls: 50,
  ratePerMinute: 300,
};

/** Graceful shutdown deadline when none is configured (fits Kubernetes' default 30 s grace period). */
export const DEFAULT_DRAIN_SECONDS = 25;

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < min)
    throw new ConfigError(`${name} must be a whole number of at least ${min}, got '${value}'.`);
  return n;
}

export function parseHttpLimits(env: NodeJS.ProcessEnv): HttpLimits {
  const d = DEFAULT_HTTP_LIMITS;
  const limits: HttpLimits = {
    headersTimeoutMs: integer(
      'DIVIO_MCP_HEADERS_TIMEOUT_MS',
      env.DIVIO_MCP_HEADERS_TIMEOUT_MS,
      d.headersTimeoutMs,
      100,
    ),
    requestTimeoutMs: integer(
      'DIVIO_MCP_REQUEST_TIMEOUT_MS',
      env.DIVIO_MCP_REQUEST_TIMEOUT_MS,
      d.requestTimeoutMs,
      100,
    ),
    maxBatch: integer('DIVIO_MCP_MAX_BATCH', env.DIVIO_MCP_MAX_BATCH, d.maxBatch, 1),
    maxCallsPerClient: integer(
      'DIVIO_MCP_MAX_CALLS_PER_CLIENT',
      env.DIVIO_MCP_MAX_CALLS_PER_CLIENT,
      d.maxCallsPerClient,
      1,
    ),
    maxCalls: integer('DIVIO_MCP_MAX_CALLS', env.DIVIO_MCP_MAX_CALLS, d.maxCalls, 1),
    ratePerMinute: integer('DIVIO_MCP_RATE_LIMIT', env.DIVIO_MCP_RATE_LIMIT, d.ratePerMinute, 0),
  };
  // Node refuses a headers timeout longer than the request timeout (the headers are part of the request).
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError(
      `DIVIO_MCP_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) must not exceed DIVIO_MCP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs}).`,
    );
  }
  return limits;
}

/** Drain deadline in seconds: the flag wins over the environment variable. */
export function parseDrainSeconds(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  const value = flag ?? env.DIVIO_MCP_DRAIN_SECONDS;
  if (value === undefined || value.trim() === '') return DEFAULT_DRAIN_SECONDS;
  const n = Number(value.trim());
  if (!Number.isFinite(n) || n < 0)
    throw new ConfigError(`--drain-seconds (DIVIO_MCP_DRAIN_SECONDS) must be 0 or more, got '${value}'.`);
  return n;
}
