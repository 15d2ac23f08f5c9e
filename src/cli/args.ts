import { parseArgs } from 'node:util';
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
} from '../mcp/config.js';
import { LOG_LEVELS, type LogLevel } from '../mcp/log.js';
import { displayRedisUrl } from '../state/index.js';
import { type HttpLimits, parseDrainSeconds, parseHttpLimits } from './limits.js';
import { type OAuthSettings, parseOAuthSettings } from './oauth-settings.js';
import { FLAGS, helpSections, OPTIONS, parseArgsOptions } from './options.js';
import { CLIENTS, type ClientName } from './snippets.js';
import { didYouMean } from './suggest.js';

export const HELP = `divio-mcp: an MCP server for the Divio Cloud control-panel API

Usage:
  divio-mcp [options]                 serve MCP (stdio by default)
  divio-mcp sandbox [--port N]        run only the simulated Divio API and print its URL and token
  divio-mcp doctor [--sandbox]        check Node, credentials, proxy and the token against the API; exit 1 if not ready
  divio-mcp config CLIENT [flags]     print the config snippet for claude-desktop, claude-code, cursor, vscode or
                                      windsurf (absolute paths; --sandbox, --read-only, --toolsets passed through)
  divio-mcp --help | --version

${helpSections()}`;

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
  /** OAuth resource server settings (HTTP); undefined when OAuth is off. */
  oauth: OAuthSettings | undefined;
  allowedHosts: string[];
  /** Sandbox clock speed; >1 makes deploys and backups finish sooner. */
  sandboxSpeed: number;
  config: ServerConfig;
  /** Graceful shutdown deadline, in seconds. */
  drainSeconds: number;
  httpLimits: HttpLimits;
  logLevel: LogLevel;
  /** `--log-file`: the log is appended there too. */
  logFile: string | undefined;
  /** Redis or Valkey for state shared by replicas (DIVIO_MCP_REDIS_URL); undefined: this process's memory. */
  redisUrl: string | undefined;
  /** HTTP: serve /metrics on this loopback port instead of behind the MCP listener's authentication. */
  metricsPort: number | undefined;
  /** Things the person should know about how their configuration was read (stderr at start). */
  notices: string[];
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

function parsePort(value: string, name = '--port'): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65_535)
    throw new ConfigError(`${name} must be 0-65535, got '${value}'.`);
  return n;
}

/** `redis://` or `rediss://` (TLS) URL; the error shows it without credentials. */
export function parseRedisUrl(value: string | undefined): string | undefined {
  const raw = value?.trim();
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    throw new ConfigError(
      `DIVIO_MCP_REDIS_URL must be a redis:// or rediss:// URL such as redis://:password@redis.internal:6379/0, got ${url ? `'${displayRedisUrl(raw)}'` : 'something that is not a URL'}.`,
    );
  }
  return raw;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive number, got '${value}'.`);
  return n;
}

function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  const level = value.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${value}'.`);
}

interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** parseArgs over the options table, with Node's errors turned into messages that say what to type instead. */
function parseArgsFriendly(argv: readonly string[]): ParsedArgs {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: parseArgsOptions() });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec(message)?.[1] ?? message;
      const name = option.split('=')[0] ?? option;
      throw new ConfigError(
        `Unknown option '${name}'.${didYouMean(name, FLAGS)} Run divio-mcp --help for the options.`,
      );
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const option = /(--[a-z-]+)/.exec(message)?.[1];
      const row = OPTIONS.find((r) => `--${r.flag}` === option);
      throw new ConfigError(
        row?.arg
          ? `${option} needs a value: ${option} ${row.arg}.`
          : `${option ?? 'An option'} takes no value (it is a switch).`,
      );
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new ConfigError(`${message}. Run divio-mcp --help.`);
    throw error;
  }
}

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  const parsed = parseArgsFriendly(argv);
  const positionals = parsed.positionals;
  const str = (name: string): string | undefined => {
    const v = parsed.values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const on = (name: string): boolean => parsed.values[name] === true;
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
  const transport = str('transport') ?? 'stdio';
  if (transport !== 'stdio' && transport !== 'http') {
    throw new ConfigError(`--transport must be stdio or http, got '${transport}'.`);
  }
  const confirmMode: ConfirmMode = parseConfirmMode(str('confirm-mode') ?? env.DIVIO_MCP_CONFIRM_MODE);
  const sandbox = on('sandbox') || truthy(env.DIVIO_SANDBOX);
  const policy = (flag: 'protected-environments' | 'read-only-environments', variable: string) =>
    str(flag) !== undefined
      ? parsePolicyList(`--${flag}`, str(flag))
      : parsePolicyList(variable, env[variable]);
  const protectedList = policy('protected-environments', 'DIVIO_MCP_PROTECTED_ENVIRONMENTS');
  const readOnlyList = policy('read-only-environments', 'DIVIO_MCP_READ_ONLY_ENVIRONMENTS');
  const confirmKey = parseConfirmKey(env.DIVIO_MCP_CONFIRM_KEY);
  const config = defaultServerConfig({
    readOnly: on('read-only') || truthy(env.DIVIO_MCP_READ_ONLY),
    toolsets: parseToolsets(str('toolsets') ?? env.DIVIO_MCP_TOOLSETS),
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
  const oauth = parseOAuthSettings({
    issuer: str('oauth-issuer') ?? env.DIVIO_MCP_OAUTH_ISSUER,
    audience: str('oauth-audience') ?? env.DIVIO_MCP_OAUTH_AUDIENCE,
    jwksUrl: str('oauth-jwks-url') ?? env.DIVIO_MCP_OAUTH_JWKS_URL,
    resource: str('oauth-resource') ?? env.DIVIO_MCP_OAUTH_RESOURCE,
    writeScope: str('oauth-write-scope') ?? env.DIVIO_MCP_OAUTH_WRITE_SCOPE,
  });
  const command: CliOptions['command'] =
    on('help') || sub === 'help'
      ? 'help'
      : on('version') || sub === 'version'
        ? 'version'
        : ((sub ?? 'serve') as CliOptions['command']);
  const portFlag = str('port');
  const metricsPortValue = str('metrics-port') ?? (env.DIVIO_MCP_METRICS_PORT || undefined);
  const metricsPort =
    metricsPortValue === undefined
      ? undefined
      : parsePort(metricsPortValue, '--metrics-port (DIVIO_MCP_METRICS_PORT)');
  const notices = [
    protectedList.notice,
    readOnlyList.notice,
    oauth && transport === 'stdio'
      ? 'the --oauth-* settings apply to --transport http only; over stdio the client is the process that started the server.'
      : null,
  ].filter((n): n is string => n !== null);
  if (metricsPort !== undefined && transport !== 'http' && (sub ?? 'serve') === 'serve')
    notices.push('--metrics-port is ignored: /metrics is served with --transport http only.');
  const passFlags: string[] = [];
  if (on('sandbox')) passFlags.push('--sandbox');
  if (on('read-only')) passFlags.push('--read-only');
  const toolsetsFlag = str('toolsets');
  if (toolsetsFlag) passFlags.push('--toolsets', toolsetsFlag);
  return {
    command,
    configClient,
    passFlags,
    sandbox,
    transport,
    port: portFlag !== undefined ? parsePort(portFlag) : command === 'sandbox' ? 0 : 8808,
    host: str('host') ?? '127.0.0.1',
    authToken: env.DIVIO_MCP_AUTH_TOKEN || undefined,
    oauth,
    allowedHosts: parseList(env.DIVIO_MCP_ALLOWED_HOSTS),
    sandboxSpeed: positiveNumber('--speed', str('speed') ?? env.DIVIO_SANDBOX_SPEED, 1),
    config,
    drainSeconds: parseDrainSeconds(str('drain-seconds'), env),
    httpLimits: parseHttpLimits(env),
    logLevel: parseLogLevel(str('log-level') ?? env.DIVIO_MCP_LOG_LEVEL),
    logFile: str('log-file') || env.DIVIO_MCP_LOG_FILE || undefined,
    redisUrl: parseRedisUrl(env.DIVIO_MCP_REDIS_URL),
    metricsPort,
    notices,
  };
}
