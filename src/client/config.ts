import { readFileSync } from 'node:fs';
import type { DivioClientOptions } from './client.js';
import {
  type CredentialLookupOptions,
  type Credentials,
  findCredentials,
  proxyFromEnv,
} from './credentials.js';
import { ConfigurationError } from './errors.js';

export const DEFAULT_BASE_URL = 'https://api.divio.com';

/** Set by the bundler (scripts/build.mjs), whose output no longer sits two levels below package.json. */
declare const DIVIO_MCP_VERSION: string | undefined;

function readVersion(): string {
  if (typeof DIVIO_MCP_VERSION === 'string') return DIVIO_MCP_VERSION;
  // src/client/config.ts sits two levels below package.json.
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (pkg && typeof pkg === 'object' && 'version' in pkg && typeof pkg.version === 'string')
      return pkg.version;
  } catch {
    // Bundled or relocated: fall through.
  }
  return '0.0.0';
}

export const VERSION = readVersion();
export const DEFAULT_USER_AGENT = `divio-mcp/${VERSION}`;

/** `https://api.{zone}` as Divio's CLI builds it; a zone that already is a URL is used verbatim. */
export function baseUrlFromZone(zone: string): string {
  const z = zone.trim();
  if (/^https?:\/\//i.test(z)) return z;
  return `https://api.${z}`;
}

/** Validate and normalise a base URL: http(s) only, no trailing slash, no query or fragment. */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigurationError(`Invalid Divio API base URL ${JSON.stringify(raw)}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(`The Divio API base URL must use http or https, got ${url.protocol}.`);
  }
  if (url.username || url.password) {
    throw new ConfigurationError('The Divio API base URL must not contain credentials.');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The page where a person creates an access token, for a zone (`https://control.{zone}/account/access-tokens/`,
 * the URL Divio's CLI prints since 2025). The zone is the configured one, else read from an `api.{zone}` base
 * URL; any other base URL (a proxy, the sandbox) gets the default zone's page.
 */
export function tokenPageUrl(opts: { baseUrl?: string | undefined; zone?: string | undefined }): string {
  let zone = opts.zone?.trim();
  if (!zone || /^https?:\/\//i.test(zone)) {
    const raw = zone || opts.baseUrl;
    zone = undefined;
    try {
      const host = raw ? new URL(raw).hostname : '';
      if (host.startsWith('api.')) zone = host.slice('api.'.length);
    } catch {
      // An invalid URL is reported by the base URL check.
    }
  }
  return `https://control.${zone || 'divio.com'}/account/access-tokens/`;
}

export function resolveBaseUrl(opts: { baseUrl?: string | undefined; zone?: string | undefined }): string {
  if (opts.baseUrl) return normaliseBaseUrl(opts.baseUrl);
  if (opts.zone) return normaliseBaseUrl(baseUrlFromZone(opts.zone));
  return DEFAULT_BASE_URL;
}

/**
 * Client options from the environment: the token (`DIVIO_API_TOKEN`, else the netrc entry `divio login` wrote;
 * see credentials.ts), `DIVIO_API_URL` or `DIVIO_ZONE` (URL wins over zone), and the proxy variables.
 */
export function clientOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  lookup: CredentialLookupOptions = {},
): Pick<DivioClientOptions, 'token' | 'baseUrl' | 'proxy' | 'zone'> & { credentials: Credentials } {
  const credentials = findCredentials(env, lookup);
  const out: Pick<DivioClientOptions, 'token' | 'baseUrl' | 'proxy' | 'zone'> & { credentials: Credentials } =
    {
      credentials,
    };
  if (credentials.token) out.token = credentials.token;
  const proxy = proxyFromEnv(env);
  if (proxy) out.proxy = proxy;
  const url = env.DIVIO_API_URL?.trim();
  const zone = env.DIVIO_ZONE?.trim();
  if (url) out.baseUrl = url;
  else if (zone) out.baseUrl = baseUrlFromZone(zone);
  // The zone names the token page in messages even when DIVIO_API_URL (a proxy, say) sets the address.
  if (zone && !/^https?:\/\//i.test(zone)) out.zone = zone;
  return out;
}
