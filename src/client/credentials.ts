import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the Divio token comes from, first found wins:
 *   1. `DIVIO_API_TOKEN`;
 *   2. the netrc entry `machine control.<zone>` that `divio login` writes (Divio's CLI, `divio_cli/cloud.py` and
 *      `divio_cli/client.py`, read that entry), then `machine api.<zone>` (written by older CLI versions);
 *      the file is `NETRC_PATH` when set, otherwise `~/.netrc`.
 * The source is reported by name only; the token itself is never printed.
 */
export interface Credentials {
  token: string | undefined;
  /** e.g. `DIVIO_API_TOKEN`, `~/.netrc (machine control.divio.com)`, or `none`. */
  source: string;
  /** Problems worth telling the person about (an unreadable NETRC_PATH), without secrets. */
  warnings: string[];
}

export interface NetrcEntry {
  machine: string | null;
  login?: string;
  password?: string;
  account?: string;
}

/**
 * Parses the netrc format as `ftp(1)` and Python's `netrc` module read it: whitespace-separated tokens,
 * `machine NAME` or `default` opening an entry, `login`, `password`, `account` values, `macdef NAME` followed
 * by macro lines up to an empty line (skipped), `#` comments to the end of the line, and double-quoted tokens
 * with backslash escapes.
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const tokens = tokenize(text);
  const entries: NetrcEntry[] = [];
  let current: NetrcEntry | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as Token;
    if (tok.kind === 'macdef') continue;
    switch (tok.value) {
      case 'machine': {
        const name = tokens[++i];
        current = { machine: name && name.kind === 'word' ? name.value : '' };
        entries.push(current);
        break;
      }
      case 'default':
        current = { machine: null };
        entries.push(current);
        break;
      case 'login':
      case 'password':
      case 'account': {
        const value = tokens[++i];
        if (current && value && value.kind === 'word') current[tok.value] = value.value;
        break;
      }
      default:
        // Unknown tokens are ignored, as Python's parser does for forward compatibility.
        break;
    }
  }
  return entries;
}

type Token = { kind: 'word'; value: string } | { kind: 'macdef'; value: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  while (i < n) {
    const c = text[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    let value = '';
    if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i];
        i++;
      }
      i++;
    } else {
      while (i < n && !isSpace(text[i])) {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i];
        i++;
      }
    }
    if (value === 'macdef') {
      // `macdef NAME` then macro lines until an empty line: none of it is credentials.
      while (i < n && text[i] !== '\n') i++;
      const end = text.indexOf('\n\n', i);
      i = end < 0 ? n : end + 2;
      out.push({ kind: 'macdef', value: '' });
      continue;
    }
    out.push({ kind: 'word', value });
  }
  return out;
}

/** The zone whose netrc entries apply: `DIVIO_ZONE`, else the host of `DIVIO_API_URL` without `api.`. */
export function zoneFromEnv(env: NodeJS.ProcessEnv): string {
  const zone = env.DIVIO_ZONE?.trim();
  if (zone && !/^https?:\/\//i.test(zone)) return zone;
  const url = (zone && /^https?:\/\//i.test(zone) ? zone : env.DIVIO_API_URL)?.trim();
  if (url) {
    try {
      const host = new URL(url).hostname;
      return host.startsWith('api.') ? host.slice('api.'.length) : host;
    } catch {
      // An invalid URL is reported by the client's own base URL check.
    }
  }
  return 'divio.com';
}

export interface CredentialLookupOptions {
  /** For tests: the home directory (default: the user's). */
  home?: string;
  /** For tests: reads a file (default: fs.readFileSync as UTF-8). */
  readFile?: (path: string) => string;
}

export function findCredentials(env: NodeJS.ProcessEnv, opts: CredentialLookupOptions = {}): Credentials {
  const warnings: string[] = [];
  const fromEnv = env.DIVIO_API_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'DIVIO_API_TOKEN', warnings };

  const explicit = env.NETRC_PATH?.trim();
  const home = opts.home ?? homedir();
  const file = explicit || join(home, '.netrc');
  const shown = explicit ? `NETRC_PATH (${explicit})` : '~/.netrc';
  const read = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let text: string;
  try {
    text = read(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    // A missing ~/.netrc is the normal case for people who never ran `divio login`; a missing NETRC_PATH is not.
    if (explicit)
      warnings.push(`NETRC_PATH points to ${explicit}, which cannot be read (${code ?? 'error'}).`);
    return { token: undefined, source: 'none', warnings };
  }
  const zone = zoneFromEnv(env);
  const entries = parseNetrc(text);
  for (const host of [`control.${zone}`, `api.${zone}`]) {
    const entry = entries.find((e) => e.machine === host && e.password);
    if (entry?.password) return { token: entry.password, source: `${shown} (machine ${host})`, warnings };
  }
  return { token: undefined, source: 'none', warnings };
}

/** Proxy settings from the environment, as curl and Divio's CLI read them (lower-case names win, as in curl). */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

/**
 * Why a proxy setting cannot be used, or undefined: the client's HTTP library takes http:// and https:// proxy
 * URLs only (a bare host:port parses as a URL with the host as its scheme, and fails at every request). The value
 * is not repeated: it may hold a password.
 */
export function proxyProblem(proxy: ProxySettings | undefined): string | undefined {
  for (const [name, value] of [
    ['HTTP_PROXY', proxy?.httpProxy],
    ['HTTPS_PROXY', proxy?.httpsProxy],
  ] as const) {
    if (value === undefined) continue;
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'http:' && protocol !== 'https:')
      return `${name} (or ${name.toLowerCase()}) is not an http:// or https:// URL: write it as http://host:port, or unset it.`;
  }
  return undefined;
}

export function proxyFromEnv(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const pick = (name: string) => (env[name.toLowerCase()] ?? env[name])?.trim() || undefined;
  // A proxy written without a scheme (`proxy.corp:3128`) means http://, as curl and Python's requests (which
  // Divio's CLI uses) read it.
  const withScheme = (value: string | undefined) =>
    value === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  const httpProxy = withScheme(pick('HTTP_PROXY'));
  const httpsProxy = withScheme(pick('HTTPS_PROXY'));
  const noProxy = pick('NO_PROXY');
  if (!httpProxy && !httpsProxy) return undefined;
  const out: ProxySettings = {};
  if (httpProxy) out.httpProxy = httpProxy;
  if (httpsProxy) out.httpsProxy = httpsProxy;
  if (noProxy) out.noProxy = noProxy;
  return out;
}
