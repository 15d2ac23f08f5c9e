/**
 * Every flag and environment variable the server reads, in one table. `--help`, the README's configuration
 * table and the command-line parser are all generated from it, and a test keeps the README equal to it, so
 * none of them can describe an option the others do not know.
 */
export interface OptionRow {
  /** Flag name without dashes. */
  flag?: string;
  /** Placeholder of the flag's value; a flag without one is a switch. */
  arg?: string;
  /** Environment variables with the same effect (or the only way to set it). */
  env?: string[];
  /** Default, in words; `` `x` `` marks code. */
  default: string;
  /** What it does; `` `x` `` marks code. */
  meaning: string;
}

export const OPTIONS: readonly OptionRow[] = [
  {
    env: ['DIVIO_API_TOKEN'],
    default: 'none',
    meaning:
      'Divio access token. Without it (and without a netrc entry, below) the server starts, and every tool answers how to create one.',
  },
  {
    env: ['NETRC_PATH'],
    default: '`~/.netrc`',
    meaning:
      'netrc file read when `DIVIO_API_TOKEN` is not set: the entry `machine control.<zone>` that `divio login` writes, then `machine api.<zone>`',
  },
  {
    env: ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'],
    default: 'none',
    meaning:
      'reach the Divio API through a proxy, an http:// or https:// URL (`host:port` alone means http://; lower-case names are read too, first)',
  },
  { env: ['DIVIO_API_URL'], default: '`https://api.divio.com`', meaning: 'API base URL' },
  {
    env: ['NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE'],
    default: 'a private folder of this server in your cache area (below)',
    meaning:
      'Node.js 22.8+: the folder for compiled code kept between starts (faster starts), or `1` in the second to go without it; Node 20 has none',
  },
  {
    env: ['XDG_CACHE_HOME', 'LOCALAPPDATA'],
    default: '`~/.cache`; Windows: its own',
    meaning:
      'your cache area, where `divio-mcp/node-compile-cache` is made, owner-only (macOS: `~/Library/Caches`); a folder others can write is not used',
  },
  {
    env: ['DIVIO_ZONE'],
    default: '`divio.com`',
    meaning: "Divio zone; the API is then `https://api.<zone>` (as Divio's CLI does)",
  },
  {
    flag: 'sandbox',
    env: ['DIVIO_SANDBOX'],
    default: 'off',
    meaning: 'run against the embedded sandbox; no token needed',
  },
  {
    flag: 'speed',
    arg: 'N',
    env: ['DIVIO_SANDBOX_SPEED'],
    default: '1',
    meaning: 'sandbox clock speed: deploys and backups finish N times sooner',
  },
  { flag: 'transport', arg: 'stdio|http', default: '`stdio`', meaning: 'transport' },
  { flag: 'port', arg: 'N', default: '8808', meaning: 'HTTP port (0 picks a free one)' },
  {
    flag: 'host',
    arg: 'H',
    default: '`127.0.0.1`',
    meaning: 'HTTP bind address; anything but loopback needs `DIVIO_MCP_AUTH_TOKEN` or `--oauth-issuer`',
  },
  {
    env: ['DIVIO_MCP_AUTH_TOKEN'],
    default: 'none',
    meaning: 'bearer token HTTP clients must send; at least 32 characters: `openssl rand -hex 32`',
  },
  {
    flag: 'oauth-issuer',
    arg: 'URL',
    env: ['DIVIO_MCP_OAUTH_ISSUER'],
    default: 'none',
    meaning:
      'HTTP: accept OAuth 2.1 access tokens (JWT) from this issuer instead of `DIVIO_MCP_AUTH_TOKEN` (see "OAuth" below)',
  },
  {
    flag: 'oauth-audience',
    arg: 'AUD',
    env: ['DIVIO_MCP_OAUTH_AUDIENCE'],
    default: 'none',
    meaning:
      "audience (`aud`) tokens must name, usually this server's public `/mcp` URL; needed with `--oauth-issuer`",
  },
  {
    flag: 'oauth-jwks-url',
    arg: 'URL',
    env: ['DIVIO_MCP_OAUTH_JWKS_URL'],
    default: "the issuer's `jwks_uri`",
    meaning: "the issuer's signing keys (JWKS); by default found through its discovery metadata",
  },
  {
    flag: 'oauth-resource',
    arg: 'URL',
    env: ['DIVIO_MCP_OAUTH_RESOURCE'],
    default: 'the audience, when it is a URL',
    meaning:
      'public URL of the `/mcp` endpoint, advertised as `resource` in `/.well-known/oauth-protected-resource`',
  },
  {
    flag: 'oauth-write-scope',
    arg: 'SCOPE',
    env: ['DIVIO_MCP_OAUTH_WRITE_SCOPE'],
    default: '`divio:write`',
    meaning: 'scope a token needs to see and call write tools; `none` lets every valid token write',
  },
  {
    env: ['DIVIO_MCP_ALLOWED_HOSTS'],
    default: 'none',
    meaning: 'extra host names allowed in `Host`/`Origin` (comma-separated), e.g. behind a proxy',
  },
  {
    flag: 'read-only',
    env: ['DIVIO_MCP_READ_ONLY'],
    default: 'off',
    meaning: 'hide every tool that changes something',
  },
  {
    flag: 'toolsets',
    arg: 'a,b',
    env: ['DIVIO_MCP_TOOLSETS'],
    default: 'all',
    meaning: 'only list these toolsets: `apps`, `logs`, `deploy`, `backups`, `config`',
  },
  {
    flag: 'confirm-mode',
    arg: 'M',
    env: ['DIVIO_MCP_CONFIRM_MODE'],
    default: '`auto`',
    meaning: '`auto`, `elicit`, `token` or `none` (see below)',
  },
  {
    flag: 'protected-environments',
    arg: 'a,b',
    env: ['DIVIO_MCP_PROTECTED_ENVIRONMENTS'],
    default: 'none',
    meaning: "more environments whose writes need the person's dialog",
  },
  {
    flag: 'read-only-environments',
    arg: 'a,b',
    env: ['DIVIO_MCP_READ_ONLY_ENVIRONMENTS'],
    default: 'none',
    meaning: 'environments that refuse every write',
  },
  {
    env: ['DIVIO_MCP_CONFIRM_KEY'],
    default: 'random per start',
    meaning: 'HMAC key for confirmation tokens, at least 32 bytes (hex or base64): `openssl rand -hex 32`',
  },
  {
    env: ['DIVIO_MCP_CURSOR_KEY'],
    default: 'derived from `DIVIO_MCP_CONFIRM_KEY`',
    meaning:
      "HMAC key for list cursors (same format); replicas sharing either key accept each other's cursors",
  },
  {
    env: ['DIVIO_MCP_CONFIRM_TTL_SECONDS'],
    default: '300',
    meaning: 'how long a confirmation token is valid',
  },
  {
    env: ['DIVIO_MCP_WAIT_SECONDS'],
    default: '50',
    meaning: 'default wait budget of long operations (per call: `wait_seconds`)',
  },
  {
    env: ['DIVIO_MCP_POLL_INTERVAL_MS'],
    default: '2000 (500 on the sandbox)',
    meaning: 'how often long operations are polled',
  },
  {
    flag: 'drain-seconds',
    arg: 'N',
    env: ['DIVIO_MCP_DRAIN_SECONDS'],
    default: '25',
    meaning: 'on SIGTERM/SIGINT, how long calls in flight may finish before exit',
  },
  {
    flag: 'log-level',
    arg: 'L',
    env: ['DIVIO_MCP_LOG_LEVEL'],
    default: '`info`',
    meaning:
      '`error`, `warn`, `info` (adds one line per tool call) or `debug`; JSON lines on stderr, never stdout',
  },
  {
    flag: 'log-file',
    arg: 'PATH',
    env: ['DIVIO_MCP_LOG_FILE'],
    default: 'none',
    meaning: 'also append the log to this file; stderr then keeps only warnings and errors',
  },
  {
    env: ['DIVIO_MCP_HEADERS_TIMEOUT_MS'],
    default: '10000',
    meaning: 'HTTP: a connection that has not sent its request headers by then is closed (408)',
  },
  {
    env: ['DIVIO_MCP_REQUEST_TIMEOUT_MS'],
    default: '30000',
    meaning:
      'HTTP: the whole request (headers and body) must arrive by then (408); responses are not limited',
  },
  {
    env: ['DIVIO_MCP_MAX_BATCH'],
    default: '10',
    meaning: 'HTTP: most JSON-RPC messages in one POST; a larger batch is refused whole',
  },
  {
    env: ['DIVIO_MCP_MAX_CALLS_PER_CLIENT'],
    default: '10',
    meaning: 'HTTP: most tool calls one client (remote address) runs at once; more get 429',
  },
  {
    env: ['DIVIO_MCP_MAX_CALLS'],
    default: '50',
    meaning: 'HTTP: most tool calls the server runs at once; more get 503',
  },
  {
    env: ['DIVIO_MCP_RATE_LIMIT'],
    default: '300',
    meaning:
      'HTTP: requests per minute per client (remote address); more get 429 with `Retry-After`; 0 turns it off',
  },
  {
    env: ['DIVIO_MCP_REDIS_URL'],
    default: 'none (state in memory)',
    meaning:
      'Redis or Valkey URL (`redis://:password@host:6379/0`, `rediss://` for TLS) for state shared by replicas: single-use confirmations and declined dialogs, the one-write-per-tool-and-environment slot, rate-limit counters, resolution cache. When it is unreachable, writes are refused, reads go on, `/readyz` answers 503',
  },
  {
    flag: 'metrics-port',
    arg: 'N',
    env: ['DIVIO_MCP_METRICS_PORT'],
    default: 'none',
    meaning:
      'HTTP: serve Prometheus `/metrics` on this port of 127.0.0.1, without authentication; when unset, `/metrics` is on the MCP port behind the same bearer token as `/mcp`',
  },
  { flag: 'help', default: '', meaning: 'print this help' },
  { flag: 'version', default: '', meaning: 'print the version' },
];

const SHORT: Record<string, string> = { help: 'h', version: 'v' };

/** The `node:util` parseArgs option spec, from the table. */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const row of OPTIONS) {
    if (!row.flag) continue;
    const spec: { type: 'string' | 'boolean'; short?: string } = { type: row.arg ? 'string' : 'boolean' };
    const short = SHORT[row.flag];
    if (short) spec.short = short;
    out[row.flag] = spec;
  }
  return out;
}

export const FLAGS: readonly string[] = OPTIONS.filter((r) => r.flag).map((r) => `--${r.flag}`);

const plain = (text: string) => text.replace(/`/g, '');

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

/** The options and environment sections of `--help`. */
export function helpSections(): string {
  const col = 34;
  const indent = ' '.repeat(col);
  const flagLines = OPTIONS.filter((r) => r.flag).map((r) => {
    const head = `  --${r.flag}${r.arg ? ` ${r.arg}` : ''}`;
    const extra = [r.default && `default ${plain(r.default)}`, r.env && `env ${r.env.join(', ')}`]
      .filter(Boolean)
      .join('; ');
    const text = `${plain(r.meaning)}${extra ? ` (${extra})` : ''}`;
    return `${head.padEnd(col - 1)} ${wrap(text, 110 - col, indent)}`;
  });
  const envLines = OPTIONS.filter((r) => !r.flag && r.env).map((r) => {
    const head = `  ${(r.env ?? []).join(', ')}`;
    const text = `${plain(r.meaning)}${r.default ? ` (default ${plain(r.default)})` : ''}`;
    const first = head.length >= col - 1 ? `${head}\n${indent}` : `${head.padEnd(col - 1)} `;
    return `${first}${wrap(text, 110 - col, indent)}`;
  });
  return `Options:\n${flagLines.join('\n')}\n\nEnvironment (flags above also read the variable named with them):\n${envLines.join('\n')}\n`;
}

/** The README's configuration table. */
export function readmeTable(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = OPTIONS.map((r) => {
    const flag = r.flag ? `\`--${r.flag}${r.arg ? ` ${r.arg}` : ''}\``.replace(/\|/g, '\\|') : '';
    const env = (r.env ?? []).map((e) => `\`${e}\``).join(', ');
    return `| ${flag} | ${env} | ${cell(r.default)} | ${cell(r.meaning)} |`;
  });
  return ['| flag | environment variable | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
