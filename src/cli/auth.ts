import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  getOAuthProtectedResourceMetadataUrl,
  OAuthError,
  OAuthErrorCode,
  verifyBearerToken,
} from '@modelcontextprotocol/server';
// jose is loaded on the first token check: a server without OAuth (every stdio start) never loads it.
import type { createRemoteJWKSet, JWTPayload } from 'jose';
import type { Logger } from '../mcp/log.js';
import { inline, quote } from '../text/index.js';
import { checkFetchableUrl, type OAuthSettings } from './oauth-settings.js';

export { DEFAULT_WRITE_SCOPE, type OAuthSettings, parseOAuthSettings } from './oauth-settings.js';

/**
 * OAuth 2.1 resource server for the HTTP transport (MCP authorization, 2025-06-18 and later): JWT access tokens
 * from one issuer, verified locally against its JWKS; the RFC 9728 protected-resource metadata document; RFC 6750
 * challenges. The server never issues tokens, and a client's token is never sent anywhere: calls to Divio use the
 * server's own Divio token.
 */
/** Tolerated clock difference with the issuer for `exp` and `nbf`, in seconds. */
export const CLOCK_SKEW_SECONDS = 30;
/** An unknown `kid` refetches the JWKS at most this often (jose's cooldown), so forged kids cannot flood the issuer. */
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** A fetched JWKS is used this long before it is fetched again. */
const DEFAULT_JWKS_MAX_AGE_MS = 10 * 60_000;
/** A failed discovery is not retried sooner than this. */
const DISCOVERY_RETRY_MS = 10_000;
const FETCH_TIMEOUT_MS = 5_000;

// Asymmetric algorithms only: a JWKS publishes public keys, and `none` or HMAC must never verify.
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** An HTTP answer the transport writes as is. */
export interface AuthAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function answerOf(response: Response): Promise<AuthAnswer> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return { status: response.status, headers, body: await response.text() };
}

/** The issuer or its keys could not be reached: the server's problem, not the token's. */
class IssuerUnavailable extends Error {}

/** Token rejections jose reports, mapped to a reason the client is shown (fixed wording, never token content). */
function rejection(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  const claim = (error as { claim?: unknown } | null)?.claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The access token has expired.';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf') return 'The access token is not valid yet (nbf).';
      if (claim === 'iss') return 'The access token was not issued by the configured issuer.';
      if (claim === 'aud') return 'The access token was not issued for this server (aud).';
      return `The access token's ${typeof claim === 'string' ? claim.replace(/[^\w]/g, '').slice(0, 20) : ''} claim is not acceptable.`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'The access token signature is invalid.';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'The access token is signed with a key the issuer does not publish.';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'The access token uses a signing algorithm this server does not accept.';
    case 'ERR_JWT_INVALID':
    case 'ERR_JWS_INVALID':
      return 'The access token is not a valid JWT.';
    default:
      return null;
  }
}

/** Scopes from `scope` (RFC 9068: space-separated) or `scp` (a list, as some issuers send). */
function scopesOf(payload: JWTPayload): string[] {
  const out = new Set<string>();
  const add = (value: unknown) => {
    const list = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    for (const s of list) if (typeof s === 'string' && s) out.add(s);
  };
  add(payload['scope']);
  add(payload['scp']);
  return [...out];
}

export interface OAuthGateOptions {
  /** Names of the tools that write; calling one needs the write scope. */
  writeTools: ReadonlySet<string>;
  log: Logger;
  /** Minimum time between JWKS refetches caused by an unknown `kid` (default 30 s). */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is trusted (default 10 min). */
  jwksMaxAgeMs?: number;
}

/** Verifies bearer tokens for the HTTP transport and answers the discovery and challenge parts of MCP authorization. */
export class OAuthGate {
  readonly resourceMetadataUrl: string;
  readonly #settings: OAuthSettings;
  readonly #opts: OAuthGateOptions;
  readonly #metadataPaths: Set<string>;
  #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  #discovery: { promise: Promise<URL>; failedAt?: number } | undefined;
  #unavailableLogged = false;

  constructor(settings: OAuthSettings, opts: OAuthGateOptions) {
    this.#settings = settings;
    this.#opts = opts;
    this.resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(settings.resource);
    // RFC 9728 §3.1: the document sits at the well-known path with the resource's path appended; the bare path
    // is served too, for clients that probe the origin.
    this.#metadataPaths = new Set([
      new URL(this.resourceMetadataUrl).pathname,
      '/.well-known/oauth-protected-resource',
    ]);
  }

  /** The RFC 9728 protected-resource metadata document. */
  metadata(): Record<string, unknown> {
    const doc: Record<string, unknown> = {
      resource: this.#settings.resource.href,
      authorization_servers: [this.#settings.issuer],
      bearer_methods_supported: ['header'],
      resource_name: 'divio-mcp',
    };
    if (this.#settings.writeScope) doc['scopes_supported'] = [this.#settings.writeScope];
    return doc;
  }

  /** The metadata document when `path` is one of its locations, otherwise null. */
  metadataAnswer(path: string, method: string | undefined): AuthAnswer | null {
    if (!this.#metadataPaths.has(path)) return null;
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS' };
    if (method === 'OPTIONS') return { status: 204, headers: cors, body: '' };
    if (method !== 'GET' && method !== 'HEAD')
      return { status: 405, headers: { ...cors, allow: 'GET, OPTIONS' }, body: '' };
    return {
      status: 200,
      headers: { ...cors, 'content-type': 'application/json', 'cache-control': 'max-age=3600' },
      body: JSON.stringify(this.metadata()),
    };
  }

  /** The verified token, or the answer to send instead (401 with a challenge, or 503 when the issuer is unreachable). */
  async authenticate(header: string | undefined): Promise<AuthInfo | AuthAnswer> {
    if (!header?.trim()) {
      // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
      return {
        status: 401,
        headers: {
          'content-type': 'application/json',
          'www-authenticate': `Bearer resource_metadata="${this.resourceMetadataUrl}"`,
        },
        body: JSON.stringify({
          error: 'invalid_request',
          error_description: `This server needs an OAuth access token from ${this.#settings.issuer}; the protected-resource metadata is at ${this.resourceMetadataUrl}.`,
        }),
      };
    }
    try {
      return await verifyBearerToken(header.trim().replace(/^bearer\s+/i, 'Bearer '), {
        verifier: { verifyAccessToken: (token) => this.#verify(token) },
        resourceMetadataUrl: this.resourceMetadataUrl,
      });
    } catch (error) {
      if (error instanceof IssuerUnavailable) {
        if (!this.#unavailableLogged) {
          this.#unavailableLogged = true;
          this.#opts.log.error(`OAuth: ${error.message}`);
        }
        return {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': '10' },
          body: JSON.stringify({
            error: 'temporarily_unavailable',
            error_description:
              'The server cannot reach its OAuth issuer to check the token. Nothing was run. Retry shortly.',
          }),
        };
      }
      return answerOf(bearerAuthChallengeResponse(error, { resourceMetadataUrl: this.resourceMetadataUrl }));
    }
  }

  /** Whether this token may see and call write tools. */
  allowsWrites(auth: AuthInfo | undefined): boolean {
    const scope = this.#settings.writeScope;
    return scope === null || (auth?.scopes.includes(scope) ?? false);
  }

  /**
   * A 403 `insufficient_scope` challenge when the body calls a write tool the token may not call (MCP
   * authorization, "Scope challenge handling"); null otherwise. Such a token is not shown write tools, so this
   * answers a client that calls one anyway, before any server is built.
   */
  async scopeChallenge(body: unknown, auth: AuthInfo | undefined): Promise<AuthAnswer | null> {
    const scope = this.#settings.writeScope;
    if (scope === null || this.allowsWrites(auth)) return null;
    const messages = Array.isArray(body) ? body : [body];
    const write = messages.find((m) => {
      const msg = m as { method?: unknown; params?: { name?: unknown } } | null;
      return (
        msg?.method === 'tools/call' &&
        typeof msg.params?.name === 'string' &&
        this.#opts.writeTools.has(msg.params.name)
      );
    });
    if (!write) return null;
    return answerOf(
      bearerAuthChallengeResponse(
        new OAuthError(
          OAuthErrorCode.InsufficientScope,
          `Write tools need the ${scope} scope; this token does not have it.`,
        ),
        { requiredScopes: [scope], resourceMetadataUrl: this.resourceMetadataUrl },
      ),
    );
  }

  async #verify(token: string): Promise<AuthInfo> {
    const jwks = await this.#keys();
    const { jwtVerify } = await import('jose');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.#settings.issuer,
        audience: this.#settings.audience,
        clockTolerance: CLOCK_SKEW_SECONDS,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      const reason = rejection(error);
      if (reason) throw new OAuthError(OAuthErrorCode.InvalidToken, reason);
      throw new IssuerUnavailable(
        `could not fetch the signing keys of ${this.#settings.issuer} (${error instanceof Error ? inline(error.message, 200) : 'unknown error'}); tokens are refused with 503 until it answers.`,
      );
    }
    const clientId =
      typeof payload['client_id'] === 'string' ? payload['client_id'] : (payload.sub ?? 'unknown');
    return {
      token,
      clientId,
      scopes: scopesOf(payload),
      // The SDK compares expiresAt with its own clock, without tolerance: give it the same skew jose allowed.
      expiresAt: (payload.exp ?? 0) + CLOCK_SKEW_SECONDS,
      resource: this.#settings.resource,
    };
  }

  async #keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.#jwks) return this.#jwks;
    const url = this.#settings.jwksUrl ? new URL(this.#settings.jwksUrl) : await this.#discover();
    const { createRemoteJWKSet } = await import('jose');
    this.#jwks ??= createRemoteJWKSet(url, {
      cooldownDuration: this.#opts.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
      cacheMaxAge: this.#opts.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
    return this.#jwks;
  }

  /** `jwks_uri` from the issuer's metadata: OpenID Connect Discovery first, then RFC 8414. Once per process. */
  #discover(): Promise<URL> {
    const d = this.#discovery;
    if (d && (d.failedAt === undefined || Date.now() - d.failedAt < DISCOVERY_RETRY_MS)) return d.promise;
    const entry: { promise: Promise<URL>; failedAt?: number } = {
      promise: Promise.resolve(new URL('about:blank')),
    };
    entry.promise = this.#fetchJwksUri().catch((error: unknown) => {
      entry.failedAt = Date.now();
      throw error;
    });
    this.#discovery = entry;
    return entry.promise;
  }

  async #fetchJwksUri(): Promise<URL> {
    const issuer = new URL(this.#settings.issuer);
    const path = issuer.pathname.replace(/\/$/, '');
    const candidates = [
      // OpenID Connect Discovery 1.0 §4: the issuer with /.well-known/openid-configuration appended.
      new URL(`${issuer.origin}${path}/.well-known/openid-configuration`),
      // RFC 8414 §3.1: the well-known segment inserted before the issuer's path.
      new URL(`${issuer.origin}/.well-known/oauth-authorization-server${path}`),
    ];
    const problems: string[] = [];
    for (const url of candidates) {
      let doc: { issuer?: unknown; jwks_uri?: unknown };
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
        if (!res.ok) {
          problems.push(`${url.href}: HTTP ${res.status}`);
          continue;
        }
        doc = (await res.json()) as typeof doc;
      } catch (error) {
        problems.push(`${url.href}: ${error instanceof Error ? inline(error.message, 100) : 'failed'}`);
        continue;
      }
      // RFC 8414 §3.3 / OIDC Discovery §4.3: the document must name the issuer it was fetched for.
      if (doc.issuer !== this.#settings.issuer) {
        problems.push(`${url.href}: names issuer ${quote(String(doc.issuer))}`);
        continue;
      }
      if (typeof doc.jwks_uri !== 'string') {
        problems.push(`${url.href}: has no jwks_uri`);
        continue;
      }
      try {
        return checkFetchableUrl('jwks_uri', doc.jwks_uri);
      } catch (error) {
        problems.push(`${url.href}: ${inline((error as Error).message)}`);
      }
    }
    throw new IssuerUnavailable(
      `no usable discovery metadata for ${this.#settings.issuer} (${problems.join('; ')}). Set --oauth-jwks-url to skip discovery.`,
    );
  }
}
