import { ConfigError } from '../mcp/config.js';
import { quote } from '../text/index.js';
import { isLoopbackHost } from './hosts.js';

// The OAuth settings as flags and environment give them: parsed with the other options, before (and without)
// loading the resource server in ./auth.ts and the MCP SDK it builds on.

export interface OAuthSettings {
  /** The authorization server's issuer identifier; tokens must carry exactly this `iss`. */
  issuer: string;
  /** The audience tokens must name in `aud` (usually this server's public /mcp URL, RFC 8707). */
  audience: string;
  /** JWKS location; when unset, `jwks_uri` from the issuer's discovery metadata. */
  jwksUrl?: string | undefined;
  /** Public URL of the /mcp endpoint, advertised as `resource` in the metadata document. */
  resource: URL;
  /** Scope a token needs to see and call write tools; null lets every valid token write. */
  writeScope: string | null;
}

export const DEFAULT_WRITE_SCOPE = 'divio:write';

/** A URL the server may fetch keys or metadata from: https, or http on loopback (local issuers, tests). */
export function checkFetchableUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, got ${quote(value, 200)}.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    throw new ConfigError(
      `${name} must be an https:// URL (http:// is accepted on loopback only), got ${url.href}.`,
    );
  if (url.hash || url.search)
    throw new ConfigError(`${name} must not carry a query or fragment, got ${url.href}.`);
  return url;
}

/** The OAuth settings from flags and environment, or undefined when OAuth is off. Throws ConfigError on a bad combination. */
export function parseOAuthSettings(values: {
  issuer?: string | undefined;
  audience?: string | undefined;
  jwksUrl?: string | undefined;
  resource?: string | undefined;
  writeScope?: string | undefined;
}): OAuthSettings | undefined {
  const issuer = values.issuer?.trim() || undefined;
  const audience = values.audience?.trim() || undefined;
  const rest = [values.jwksUrl, values.resource, values.writeScope].some((v) => v?.trim());
  if (!issuer && !audience) {
    if (rest)
      throw new ConfigError(
        '--oauth-jwks-url, --oauth-resource and --oauth-write-scope need --oauth-issuer and --oauth-audience.',
      );
    return undefined;
  }
  if (!issuer || !audience)
    throw new ConfigError(
      'OAuth needs both --oauth-issuer (DIVIO_MCP_OAUTH_ISSUER) and --oauth-audience (DIVIO_MCP_OAUTH_AUDIENCE).',
    );
  checkFetchableUrl('--oauth-issuer', issuer);
  const jwksUrl = values.jwksUrl?.trim() || undefined;
  if (jwksUrl) checkFetchableUrl('--oauth-jwks-url', jwksUrl);
  const resourceText = values.resource?.trim() || (/^https?:\/\//.test(audience) ? audience : undefined);
  if (!resourceText)
    throw new ConfigError(
      `--oauth-audience ${quote(audience, 200)} is not a URL, so pass --oauth-resource with the public URL of this server's /mcp endpoint (advertised to clients in the protected-resource metadata).`,
    );
  let resource: URL;
  try {
    resource = new URL(resourceText);
  } catch {
    throw new ConfigError(`--oauth-resource must be an absolute URL, got ${quote(resourceText, 200)}.`);
  }
  const scopeText = values.writeScope?.trim() || DEFAULT_WRITE_SCOPE;
  // RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`.
  if (scopeText !== 'none' && !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scopeText))
    throw new ConfigError(
      `--oauth-write-scope must be one OAuth scope (no spaces or quotes), or none; got ${quote(scopeText, 100)}.`,
    );
  return { issuer, audience, jwksUrl, resource, writeScope: scopeText === 'none' ? null : scopeText };
}
