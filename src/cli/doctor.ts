import {
  type Credentials,
  DivioClient,
  type DivioClientOptions,
  DivioError,
  type ProxySettings,
  proxyProblem,
  zoneFromEnv,
} from '../client/index.js';
import type { ServerConfig } from '../mcp/config.js';
import { silentLogger } from '../mcp/log.js';
import { EnvironmentPolicy } from '../mcp/policy.js';
import { quote, sanitize } from '../text/index.js';

/** One line of `divio-mcp doctor`: `ok` true/false is a verdict, null is information. */
export interface DoctorCheck {
  name: string;
  ok: boolean | null;
  detail: string;
  /** What to do when it failed. */
  fix?: string;
}

export interface DoctorReport {
  ready: boolean;
  checks: DoctorCheck[];
}

export interface DoctorInput {
  env: NodeJS.ProcessEnv;
  /** The client options the server would start with (token, base URL, proxy) and where the token came from. */
  client: Pick<DivioClientOptions, 'token' | 'baseUrl' | 'proxy' | 'dispatcher'> & {
    credentials: Credentials;
  };
  /** The server configuration, for the policy lists (entries that match no environment protect nothing). */
  config?: ServerConfig;
  nodeVersion?: string;
  platform?: NodeJS.Platform;
  /** Bounds the token check; the default keeps doctor snappy even when the API does not answer. */
  timeoutMs?: number;
}

const MIN_NODE = [20, 18, 1] as const;

function nodeOk(version: string): boolean {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const have = parts[i] ?? 0;
    const want = MIN_NODE[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

/** Platform text shown on a terminal: one line, quoted, escapes, control and bidi characters removed (src/text). */
function shown(value: unknown): string {
  return quote(String(value ?? ''), 120);
}

function proxyDetail(proxy: ProxySettings | undefined): string {
  if (!proxy) return 'none (HTTP_PROXY/HTTPS_PROXY not set)';
  const hide = (u: string | undefined) => {
    if (!u) return undefined;
    try {
      const url = new URL(u);
      // Anything else (a bare user:password@host:port parses with `user` as its scheme) is not shown.
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        return '(not an http:// or https:// URL; not shown)';
      url.username = url.username ? '***' : '';
      url.password = url.password ? '***' : '';
      return url.toString();
    } catch {
      return '(unparsable URL)';
    }
  };
  return [
    proxy.httpProxy && `HTTP_PROXY ${hide(proxy.httpProxy)}`,
    proxy.httpsProxy && `HTTPS_PROXY ${hide(proxy.httpsProxy)}`,
    proxy.noProxy && `NO_PROXY ${proxy.noProxy}`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Where each client keeps the stderr of the MCP servers it starts, per operating system. */
export function logLocations(platform: NodeJS.Platform): string[] {
  const desktop =
    platform === 'darwin'
      ? '~/Library/Logs/Claude/mcp-server-divio.log'
      : platform === 'win32'
        ? '%APPDATA%\\Claude\\logs\\mcp-server-divio.log'
        : '~/.config/Claude/logs/mcp-server-divio.log (Claude Desktop has no official Linux build)';
  return [
    `Claude Desktop: ${desktop}`,
    'Claude Code: run `claude --debug`, or `/mcp` in a session to see the server status',
    'Cursor: Output panel, channel "MCP Logs"',
    'VS Code: Command Palette, "MCP: List Servers", pick divio, "Show Output"',
    'Any client: start the server with --log-file PATH (or DIVIO_MCP_LOG_FILE) to keep its log in a file you choose; --log-level debug for more',
  ];
}

/** Policy entries (`--protected-environments`, `--read-only-environments`) that match no environment. */
async function checkPolicies(
  config: ServerConfig,
  client: DivioClient,
  checks: DoctorCheck[],
): Promise<void> {
  const entries = config.protectedEnvironments.length + config.readOnlyEnvironments.length;
  if (entries === 0) return;
  const policy = new EnvironmentPolicy(config, client, silentLogger);
  await policy.check();
  const unmatched = policy.unmatchedEntries() ?? [];
  if (unmatched.length === 0) {
    checks.push({ name: 'Policies', ok: true, detail: `${entries} entries, each matches an environment` });
    return;
  }
  for (const { list, entry } of unmatched) {
    checks.push({
      name: 'Policies',
      ok: false,
      detail: `--${list} entry ${shown(entry)} matches no environment this token can see, so it protects nothing`,
      fix: 'Correct the slug (list_applications and get_application show them) or remove the entry.',
    });
  }
}

export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const version = input.nodeVersion ?? process.version;
  const nodeGood = nodeOk(version);
  checks.push({
    name: 'Node.js',
    ok: nodeGood,
    detail: version,
    ...(nodeGood ? {} : { fix: 'Install Node.js 20.18.1 or newer (20, 22 and 24 are supported).' }),
  });

  const problem = proxyProblem(input.client.proxy);
  // A proxy setting the client cannot be made with is reported instead of the API checks.
  if (problem)
    checks.push({ name: 'Proxy', ok: false, detail: proxyDetail(input.client.proxy), fix: problem });
  else await checkApi(input, checks);

  for (const line of logLocations(input.platform ?? process.platform))
    checks.push({ name: 'Logs', ok: null, detail: line });
  return { ready: checks.every((c) => c.ok !== false), checks };
}

/** The zone, the token and the proxy as configured, then the token and the policies against the API. */
async function checkApi(input: DoctorInput, checks: DoctorCheck[]): Promise<void> {
  const client = new DivioClient({
    token: input.client.token,
    baseUrl: input.client.baseUrl,
    proxy: input.client.proxy,
    dispatcher: input.client.dispatcher,
    timeoutMs: input.timeoutMs ?? 10_000,
    retry: { maxRetries: 0 },
  });
  const zone = zoneFromEnv(input.env);
  checks.push({ name: 'Divio API', ok: null, detail: `${client.baseUrl} (zone ${zone})` });

  const { credentials } = input.client;
  for (const warning of credentials.warnings)
    checks.push({ name: 'Credentials', ok: false, detail: warning });
  if (!input.client.token) {
    checks.push({
      name: 'Token',
      ok: false,
      detail: 'none found (DIVIO_API_TOKEN is not set; no netrc entry for this zone)',
      fix: `Run \`divio login\` (Divio's CLI), or create a token at https://control.${zone}/account/access-tokens/ and set DIVIO_API_TOKEN. Or try everything without an account: divio-mcp --sandbox.`,
    });
  } else {
    checks.push({ name: 'Token', ok: null, detail: `from ${credentials.source}` });
  }
  checks.push({ name: 'Proxy', ok: null, detail: proxyDetail(input.client.proxy) });

  if (input.client.token) {
    try {
      const me = await client.users.me();
      const who = [me.first_name, me.last_name].filter(Boolean).join(' ');
      checks.push({
        name: 'Token check',
        ok: true,
        detail: `GET /iam/v3/me/ answered: ${shown(me.email ?? who ?? me.uuid)}${who && me.email ? ` (${shown(who)})` : ''}`,
      });
      const page = await client.organisations.list({ page_size: 20 });
      const names = page.results.map((o) => shown(o.name ?? o.uuid));
      const more =
        page.count !== undefined && page.count > names.length ? ` and ${page.count - names.length} more` : '';
      checks.push({
        name: 'Organisations',
        ok: names.length > 0 ? true : null,
        detail: names.length > 0 ? `${names.join(', ')}${more}` : 'none visible to this token',
      });
      if (input.config) await checkPolicies(input.config, client, checks);
    } catch (error) {
      const message = error instanceof DivioError || error instanceof Error ? error.message : String(error);
      checks.push({
        name: 'Token check',
        ok: false,
        detail: sanitize(message),
        fix:
          error instanceof DivioError && /401|403|token/i.test(message)
            ? `Create a new token at https://control.${zone}/account/access-tokens/ (or run \`divio login\`).`
            : 'Check the network path to the API (proxy variables, firewall) and DIVIO_API_URL/DIVIO_ZONE.',
      });
    }
  }
  await client.close().catch(() => undefined);
}

export function formatDoctor(report: DoctorReport): string {
  const mark = (ok: boolean | null) => (ok === true ? 'ok  ' : ok === false ? 'FAIL' : '    ');
  const lines = report.checks.map((c) => {
    const head = `${mark(c.ok)} ${c.name.padEnd(14)} ${c.detail}`;
    return c.fix ? `${head}\n     ${''.padEnd(14)} fix: ${c.fix}` : head;
  });
  lines.push(
    '',
    report.ready
      ? 'Ready: the server can reach the Divio API with this token.'
      : 'Not ready: fix the FAIL lines above.',
  );
  return `${lines.join('\n')}\n`;
}
