import { parseArgs } from 'node:util';
import { CLIENTS, type ClientName } from './cli/snippets.js';
import { didYouMean } from './cli/suggest.js';
import {
  ConfigError,
  type ConfirmMode,
  defaultServerConfig,
  parseConfirmKey,
  parseConfirmMode,
  parseCursorKey,
  parseList,
  parsePolicyList,
  parseToolsets,
  type ServerConfig,
} from './config.js';
import { type HttpLimits, parseDrainSeconds, parseHttpLimits } from './limits.js';

export const HELP = `divio-mcp: an MCP server for the Divio Cloud control-panel API

Usage:
  divio-mcp [options]                 serve MCP (stdio by default)
  divio-mcp sandbox [--port N]        run only the simulated Divio API and print its URL and token
  divio-mcp doctor [--sandbox]        check Node, credentials, proxy and the token against the API; exit 1 if not ready
  divio-mcp config CLIENT [flags]     print the config snippet for claude-desktop, claude-code, cursor, vscode or
                                      windsurf (absolute paths; --sandbox, --read-only, --toolsets passed through)
  divio-mcp --help | --version

Options:
  --sandbox                       run against the embedded sandbox (no Divio account or token needed)
  --transport stdio|http          transport (default stdio)
  --port N                        HTTP port (default 8808; 0 picks a free one)
  --host H                        HTTP bind address (default 127.0.0.1; others need DIVIO_MCP_AUTH_TOKEN)
  --read-only                     hide every tool that changes something
  --toolsets a,b                  only these toolsets: apps, logs, deploy, backups, config
  --confirm-mode MODE             auto (default), elicit, token or none
  --protected-environments a,b    environments whose writes always need the person's dialog
  --read-only-environments a,b    environments that refuse every write (slug, app/slug or ID)
  --drain-seconds N               on SIGTERM/SIGINT, how long in-flight calls may finish (default 25)

Environment:
  DIVIO_API_TOKEN      Divio access token (https://control.<zone>/account/access-tokens/)
  DIVIO_API_URL        API base URL (default https://api.divio.com)
  DIVIO_ZONE           Divio zone (default divio.com); the API is then https://api.<zone>
  DIVIO_SANDBOX=1      same as --sandbox
  DIVIO_MCP_AUTH_TOKEN bearer token HTTP clients must send
  DIVIO_MCP_READ_ONLY=1, DIVIO_MCP_TOOLSETS, DIVIO_MCP_CONFIRM_MODE, DIVIO_MCP_PROTECTED_ENVIRONMENTS,
  DIVIO_MCP_READ_ONLY_ENVIRONMENTS    same as the flags
  DIVIO_MCP_CONFIRM_KEY  HMAC key for confirmation tokens (>= 32 bytes, hex or base64; share across replicas)
  DIVIO_MCP_DRAIN_SECONDS  same as --drain-seconds
  DIVIO_MCP_HEADERS_TIMEOUT_MS, DIVIO_MCP_REQUEST_TIMEOUT_MS, DIVIO_MCP_MAX_BATCH, DIVIO_MCP_MAX_CALLS_PER_CLIENT,
  DIVIO_MCP_MAX_CALLS, DIVIO_MCP_RATE_LIMIT    HTTP limits (see the README)
  DIVIO_MCP_CURSOR_KEY   HMAC key for list cursors (default: derived from DIVIO_MCP_CONFIRM_KEY)
`;

export const COMMANDS = ['serve', 'sandbox', 'doctor', 'config', 'version', 'help'] as const;

export interface CliOptions {
  command: 'serve' | 'sandbox' | 'doctor' | 'config' | 'help' | 'version';
  /** `config <client>`: which client's snippet to print. */
  configClient: ClientName | undefined;
  /** Flags given on this command line that a client config should pass on (`config`). */
  passFlags: string[];
  sandbox: boolean;
  transport: 'stdio' | 'http';
  port: number;
  host: string;
  authToken: string | undefined;
  allowedHosts: string[];
  /** Sandbox clock speed; >1 makes deploys and backups finish sooner. */
  sandboxSpeed: number;
  config: ServerConfig;
  /** Graceful shutdown deadline, in seconds. */
  drainSeconds: number;
  httpLimits: HttpLimits;
  /** Things the person should know about how their configuration was read (stderr at start). */
  notices: string[];
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new ConfigError(`--port must be 0-65535, got '${value}'.`);
  return n;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive number, got '${value}'.`);
  return n;
}

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      sandbox: { type: 'boolean' },
      transport: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'read-only': { type: 'boolean' },
      toolsets: { type: 'string' },
      'confirm-mode': { type: 'string' },
      'protected-environments': { type: 'string' },
      'read-only-environments': { type: 'string' },
      speed: { type: 'string' },
      'drain-seconds': { type: 'string' },
    },
  });
  const sub = positionals[0];
  if (sub !== undefined && !(COMMANDS as readonly string[]).includes(sub)) {
    throw new ConfigError(
      `Unknown command '${sub}'.${didYouMean(sub, COMMANDS)} Commands: ${COMMANDS.join(', ')}. Run divio-mcp --help.`,
    );
  }
  let configClient: ClientName | undefined;
  if (sub === 'config') {
    const name = positionals[1];
    if (!name || !(CLIENTS as readonly string[]).includes(name)) {
      const hint = name ? `Unknown client '${name}'.${didYouMean(name, CLIENTS)} ` : '';
      throw new ConfigError(`${hint}divio-mcp config needs one of: ${CLIENTS.join(', ')}.`);
    }
    configClient = name as ClientName;
  }
  const transport = values.transport ?? 'stdio';
  if (transport !== 'stdio' && transport !== 'http') {
    throw new ConfigError(`--transport must be stdio or http, got '${transport}'.`);
  }
  const confirmMode: ConfirmMode = parseConfirmMode(values['confirm-mode'] ?? env.DIVIO_MCP_CONFIRM_MODE);
  const sandbox = values.sandbox === true || truthy(env.DIVIO_SANDBOX);
  const policy = (flag: 'protected-environments' | 'read-only-environments', variable: string) =>
    values[flag] !== undefined
      ? parsePolicyList(`--${flag}`, values[flag])
      : parsePolicyList(variable, env[variable]);
  const protectedList = policy('protected-environments', 'DIVIO_MCP_PROTECTED_ENVIRONMENTS');
  const readOnlyList = policy('read-only-environments', 'DIVIO_MCP_READ_ONLY_ENVIRONMENTS');
  const confirmKey = parseConfirmKey(env.DIVIO_MCP_CONFIRM_KEY);
  const config = defaultServerConfig({
    readOnly: values['read-only'] === true || truthy(env.DIVIO_MCP_READ_ONLY),
    toolsets: parseToolsets(values.toolsets ?? env.DIVIO_MCP_TOOLSETS),
    confirmMode,
    protectedEnvironments: protectedList.entries,
    readOnlyEnvironments: readOnlyList.entries,
    confirmKey,
    cursorKey: parseCursorKey(env.DIVIO_MCP_CURSOR_KEY, confirmKey),
    confirmTtlSeconds: positiveNumber(
      'DIVIO_MCP_CONFIRM_TTL_SECONDS',
      env.DIVIO_MCP_CONFIRM_TTL_SECONDS,
      300,
    ),
    // The sandbox finishes operations in seconds, so it is polled more often than the real API.
    pollIntervalMs: positiveNumber(
      'DIVIO_MCP_POLL_INTERVAL_MS',
      env.DIVIO_MCP_POLL_INTERVAL_MS,
      sandbox ? 500 : 2000,
    ),
    defaultWaitSeconds: positiveNumber('DIVIO_MCP_WAIT_SECONDS', env.DIVIO_MCP_WAIT_SECONDS, 50),
  });
  const command: CliOptions['command'] =
    values.help || sub === 'help'
      ? 'help'
      : values.version || sub === 'version'
        ? 'version'
        : ((sub ?? 'serve') as CliOptions['command']);
  const passFlags: string[] = [];
  if (values.sandbox) passFlags.push('--sandbox');
  if (values['read-only']) passFlags.push('--read-only');
  if (values.toolsets) passFlags.push('--toolsets', values.toolsets);
  return {
    command,
    configClient,
    passFlags,
    sandbox,
    transport,
    port: values.port !== undefined ? parsePort(values.port) : command === 'sandbox' ? 0 : 8808,
    host: values.host ?? '127.0.0.1',
    authToken: env.DIVIO_MCP_AUTH_TOKEN || undefined,
    allowedHosts: parseList(env.DIVIO_MCP_ALLOWED_HOSTS),
    sandboxSpeed: positiveNumber('--speed', values.speed ?? env.DIVIO_SANDBOX_SPEED, 1),
    config,
    drainSeconds: parseDrainSeconds(values['drain-seconds'], env),
    httpLimits: parseHttpLimits(env),
    notices: [protectedList.notice, readOnlyList.notice].filter((n): n is string => n !== null),
  };
}
