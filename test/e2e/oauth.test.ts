import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/args.js';
import { OAuthGate, type OAuthSettings, parseOAuthSettings } from '../../src/cli/auth.js';
import { HttpConfigError, type RunningHttpServer, startHttpServer } from '../../src/cli/http.js';
import { Metrics } from '../../src/cli/metrics.js';
import { DivioClient } from '../../src/client/index.js';
import { ConfigError, defaultServerConfig } from '../../src/mcp/config.js';
import { type Logger, silentLogger } from '../../src/mcp/log.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { createServerFactory, WRITE_TOOL_NAMES } from '../../src/server.js';
import { FakeClock } from '../helpers/clock.js';
import { ERAS, type Era } from '../helpers/harness.js';
import { sharedValidator } from '../helpers/validator.js';

/**
 * A real OAuth/OIDC issuer on loopback: discovery metadata (OpenID Connect or RFC 8414), a JWKS that can be
 * rotated, and tokens signed with jose. It counts the fetches so JWKS caching and refetching are observable.
 */
interface Issuer {
  url: string;
  /** Adds a signing key and publishes it; returns its kid. */
  addKey(): Promise<string>;
  /** Stops publishing a key (it can still sign, as a stolen or retired key would). */
  unpublish(kid: string): void;
  sign(
    claims: Record<string, unknown>,
    opts?: { kid?: string; iss?: string; aud?: string; expIn?: number; nbfIn?: number },
  ): Promise<string>;
  fetches: { discovery: number; jwks: number };
  /** Which discovery document the issuer answers. */
  discovery: 'oidc' | 'rfc8414';
  close(): Promise<void>;
}

async function startIssuer(): Promise<Issuer> {
  const keys = new Map<
    string,
    { privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: JWK }
  >();
  const published = new Set<string>();
  const fetches = { discovery: 0, jwks: 0 };
  let n = 0;
  let url = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (
      (issuer.discovery === 'oidc' && path === '/.well-known/openid-configuration') ||
      (issuer.discovery === 'rfc8414' && path === '/.well-known/oauth-authorization-server')
    ) {
      fetches.discovery += 1;
      json(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/token`,
        response_types_supported: ['code'],
      });
      return;
    }
    if (path === '/jwks') {
      fetches.jwks += 1;
      json(200, { keys: [...published].map((kid) => keys.get(kid)?.jwk) });
      return;
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer: Issuer = {
    url,
    fetches,
    discovery: 'oidc',
    async addKey() {
      const kid = `key-${++n}`;
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      keys.set(kid, { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } });
      published.add(kid);
      return kid;
    },
    unpublish(kid) {
      published.delete(kid);
    },
    async sign(claims, opts = {}) {
      const kid = opts.kid ?? [...published].at(-1) ?? '';
      const key = keys.get(kid);
      if (!key) throw new Error(`no key ${kid}`);
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .setIssuer(opts.iss ?? url)
        .setAudience(opts.aud ?? AUDIENCE)
        .setSubject('user-1')
        .setIssuedAt(now)
        .setExpirationTime(now + (opts.expIn ?? 300));
      if (opts.nbfIn !== undefined) jwt.setNotBefore(now + opts.nbfIn);
      return jwt.sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return issuer;
}

/** A loopback pass-through in front of the sandbox that records every header and body the server sends to Divio. */
async function startRecorder(
  target: string,
): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const t = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${body.toString('utf8')}`);
      const fwd = request(
        {
          host: t.hostname,
          port: t.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: t.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const AUDIENCE = 'https://mcp.example.test/mcp';

let issuer: Issuer;
let sandbox: Sandbox;
let recorder: Awaited<ReturnType<typeof startRecorder>>;
let divio: DivioClient;
/** The sandbox's operations, the waits and the retries run on simulated time. */
const clock = new FakeClock();
const servers: RunningHttpServer[] = [];

beforeAll(async () => {
  issuer = await startIssuer();
  await issuer.addKey();
  sandbox = await startSandbox({ timings: { backupMs: 10 }, clock });
  recorder = await startRecorder(sandbox.url);
  divio = new DivioClient({ token: sandbox.token, baseUrl: recorder.url, clock });
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await divio.close();
  await recorder.close();
  await sandbox.close();
  await issuer.close();
});

function settings(overrides: Partial<OAuthSettings> = {}): OAuthSettings {
  const parsed = parseOAuthSettings({ issuer: issuer.url, audience: AUDIENCE });
  if (!parsed) throw new Error('OAuth settings expected');
  return { ...parsed, ...overrides };
}

async function serve(
  s: OAuthSettings = settings(),
  gate: { jwksCooldownMs?: number } = {},
): Promise<{ url: string; logs: string[] }> {
  const logs: string[] = [];
  const factory = createServerFactory({
    client: divio,
    config: defaultServerConfig({ pollIntervalMs: 20 }),
    log: collect(logs),
    clock,
  });
  const http = await startHttpServer(factory, {
    host: '127.0.0.1',
    port: 0,
    oauth: new OAuthGate(s, { writeTools: WRITE_TOOL_NAMES, log: collect(logs), ...gate }),
    log: collect(logs),
  });
  servers.push(http);
  return { url: http.url, logs };
}

/** A logger that keeps every message, whatever its level. */
function collect(lines: string[]): Logger {
  const keep = (msg: string) => {
    lines.push(msg);
  };
  return { error: keep, warn: keep, info: keep, debug: keep };
}

async function connect(url: string, era: Era, token: string): Promise<Client> {
  const client = new Client(
    { name: 'oauth-test', version: '1.0.0' },
    {
      jsonSchemaValidator: sharedValidator,
      versionNegotiation: { mode: era === 'legacy' ? 'legacy' : { pin: '2026-07-28' } },
    },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
};

async function post(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
}

function challengeParams(header: string | null): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  const out: Record<string, string> = {};
  for (const m of (header ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

describe('OAuth resource server: the protected-resource metadata and challenges', () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await serve());
  });

  it('serves the RFC 9728 document at the path-aware and the bare well-known location', async () => {
    const origin = new URL(url).origin;
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual({
        resource: AUDIENCE,
        authorization_servers: [issuer.url],
        bearer_methods_supported: ['header'],
        resource_name: 'divio-mcp',
        scopes_supported: ['divio:write'],
      });
    }
    expect((await fetch(`${origin}/.well-known/oauth-protected-resource`, { method: 'POST' })).status).toBe(
      405,
    );
  });

  it('answers a request without a token 401 with resource_metadata and no error code', async () => {
    const res = await post(url, INIT);
    expect(res.status).toBe(401);
    const params = challengeParams(res.headers.get('www-authenticate'));
    expect(params).toEqual({
      resource_metadata: 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp',
    });
  });

  const rejected: [string, () => Promise<string>, RegExp][] = [
    [
      'wrong audience',
      () => issuer.sign({}, { aud: 'https://other.example.test/mcp' }),
      /not issued for this server/,
    ],
    ['expired (beyond the clock skew)', () => issuer.sign({}, { expIn: -120 }), /expired/],
    ['not yet valid (beyond the clock skew)', () => issuer.sign({}, { nbfIn: 120 }), /not valid yet/],
    ['wrong issuer', () => issuer.sign({}, { iss: 'https://evil.example.test' }), /configured issuer/],
    [
      'bad signature',
      async () => {
        const [h, p, s] = (await issuer.sign({})).split('.');
        const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8'));
        payload.scope = 'divio:write';
        return [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
      },
      /signature is invalid/,
    ],
    ['not a JWT', async () => 'opaque-token-0123456789abcdef0123456789', /not a valid JWT/],
  ];
  for (const [name, token, reason] of rejected) {
    it(`refuses a token with ${name}: 401 invalid_token with resource_metadata`, async () => {
      const res = await post(url, INIT, await token());
      expect(res.status).toBe(401);
      const params = challengeParams(res.headers.get('www-authenticate'));
      expect(params['error']).toBe('invalid_token');
      expect(params['resource_metadata']).toBe(
        'https://mcp.example.test/.well-known/oauth-protected-resource/mcp',
      );
      expect(params['error_description']).toMatch(reason);
    });
  }

  it('accepts a token just past exp and before nbf within the clock skew', async () => {
    expect((await post(url, LIST, await issuer.sign({}, { expIn: -5 }))).status).toBe(200);
    expect((await post(url, LIST, await issuer.sign({}, { nbfIn: 5 }))).status).toBe(200);
  });
});

describe.each(ERAS)('OAuth resource server over HTTP (%s era)', (era) => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await serve());
  });

  it('a valid token with the write scope lists and calls read and write tools', async () => {
    const client = await connect(url, era, await issuer.sign({ scope: 'openid divio:write' }));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('list_applications');
      for (const w of WRITE_TOOL_NAMES) expect(names).toContain(w);
      const read = await client.callTool({ name: 'list_applications', arguments: {} });
      expect(read.isError).toBeFalsy();
      const write = await client.callTool({
        name: 'create_backup',
        arguments: { app: 'shop', environment: 'test', wait_seconds: 5 },
      });
      expect(write.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it('a token without the write scope sees no write tools, and a write call gets 403 insufficient_scope', async () => {
    const token = await issuer.sign({ scp: ['openid', 'divio:read'] });
    const client = await connect(url, era, token);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('list_applications');
      expect(WRITE_TOOL_NAMES.size).toBeGreaterThan(0);
      for (const w of WRITE_TOOL_NAMES) expect(names).not.toContain(w);
      expect((await client.callTool({ name: 'list_applications', arguments: {} })).isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const before = sandbox.requestLog.filter((e) => e.method === 'POST').length;
    const call = {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'create_backup', arguments: { app: 'shop', environment: 'test' } },
    };
    for (const body of [call, [LIST, call]]) {
      const res = await post(url, body, token);
      expect(res.status).toBe(403);
      const params = challengeParams(res.headers.get('www-authenticate'));
      expect(params['error']).toBe('insufficient_scope');
      expect(params['scope']).toBe('divio:write');
      expect(params['resource_metadata']).toBe(
        'https://mcp.example.test/.well-known/oauth-protected-resource/mcp',
      );
    }
    expect(sandbox.requestLog.filter((e) => e.method === 'POST').length).toBe(before);
  });
});

describe('OAuth: write scope settings', () => {
  it('--oauth-write-scope none lets every valid token write', async () => {
    const { url } = await serve(settings({ writeScope: null }));
    const client = await connect(url, 'modern', await issuer.sign({}));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      for (const w of WRITE_TOOL_NAMES) expect(names).toContain(w);
    } finally {
      await client.close();
    }
  });
});

describe('OAuth: signing keys', () => {
  afterEach(() => {
    issuer.discovery = 'oidc';
  });

  it('finds the JWKS through RFC 8414 metadata when there is no OpenID configuration', async () => {
    issuer.discovery = 'rfc8414';
    const { url } = await serve();
    expect((await post(url, LIST, await issuer.sign({}))).status).toBe(200);
  });

  it('uses --oauth-jwks-url without discovery', async () => {
    const before = issuer.fetches.discovery;
    const { url } = await serve(settings({ jwksUrl: `${issuer.url}/jwks` }));
    expect((await post(url, LIST, await issuer.sign({}))).status).toBe(200);
    expect(issuer.fetches.discovery).toBe(before);
  });

  it('caches the keys: many tokens, one discovery and one JWKS fetch', async () => {
    const { url } = await serve();
    const d = issuer.fetches.discovery;
    const j = issuer.fetches.jwks;
    for (let i = 0; i < 5; i++) expect((await post(url, LIST, await issuer.sign({}))).status).toBe(200);
    expect(issuer.fetches.discovery - d).toBe(1);
    expect(issuer.fetches.jwks - j).toBe(1);
  });

  it('rotation: a new kid refetches the JWKS and is accepted; a removed key is refused', async () => {
    const { url } = await serve(settings(), { jwksCooldownMs: 0 });
    // The key published in beforeAll.
    const oldKid = 'key-1';
    const oldToken = await issuer.sign({}, { kid: oldKid });
    expect((await post(url, LIST, oldToken)).status).toBe(200);
    const newKid = await issuer.addKey();
    issuer.unpublish(oldKid);
    const jwksBefore = issuer.fetches.jwks;
    expect((await post(url, LIST, await issuer.sign({}, { kid: newKid }))).status).toBe(200);
    expect(issuer.fetches.jwks).toBe(jwksBefore + 1);
    const res = await post(url, LIST, await issuer.sign({}, { kid: oldKid }));
    expect(res.status).toBe(401);
    expect(challengeParams(res.headers.get('www-authenticate'))['error_description']).toMatch(
      /key the issuer does not publish/,
    );
  });

  it('unknown kids refetch at most once per cooldown (forged kids cannot flood the issuer)', async () => {
    const { url } = await serve(settings(), { jwksCooldownMs: 60_000 });
    expect((await post(url, LIST, await issuer.sign({}))).status).toBe(200);
    const jwksBefore = issuer.fetches.jwks;
    const stranger = await issuer.addKey();
    issuer.unpublish(stranger);
    for (let i = 0; i < 5; i++)
      expect((await post(url, LIST, await issuer.sign({}, { kid: stranger }))).status).toBe(401);
    expect(issuer.fetches.jwks).toBe(jwksBefore);
  });

  it('an unreachable issuer answers 503, logs it once, and runs nothing', async () => {
    const { url, logs } = await serve(settings({ issuer: 'http://127.0.0.1:9/', jwksUrl: undefined }));
    for (let i = 0; i < 2; i++) {
      const res = await post(url, LIST, await issuer.sign({}));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('10');
    }
    expect(logs.filter((l) => /OAuth: no usable discovery metadata/.test(l))).toHaveLength(1);
  });
});

describe('OAuth: client tokens never reach Divio', () => {
  it('the Divio API only ever sees the server token, never the client access token', async () => {
    const { url } = await serve();
    const token = await issuer.sign({ scope: 'divio:write' });
    const client = await connect(url, 'modern', token);
    const seenBefore = recorder.seen.length;
    try {
      expect((await client.callTool({ name: 'list_applications', arguments: {} })).isError).toBeFalsy();
      expect(
        (
          await client.callTool({
            name: 'create_backup',
            arguments: { app: 'shop', environment: 'test', wait_seconds: 5 },
          })
        ).isError,
      ).toBeFalsy();
    } finally {
      await client.close();
    }
    const seen = recorder.seen.slice(seenBefore);
    expect(seen.length).toBeGreaterThan(1);
    const signature = token.split('.')[2] ?? '';
    for (const entry of seen) {
      expect(entry).not.toContain(token);
      expect(entry).not.toContain(signature);
      expect(entry).toContain(`"authorization":"Token ${sandbox.token}"`);
    }
  });
});

describe('OAuth: configuration', () => {
  it('parses the settings and defaults', () => {
    expect(parseOAuthSettings({})).toBeUndefined();
    const s = parseOAuthSettings({ issuer: 'https://id.example.com/', audience: AUDIENCE });
    expect(s).toMatchObject({
      issuer: 'https://id.example.com/',
      audience: AUDIENCE,
      writeScope: 'divio:write',
    });
    expect(s?.resource.href).toBe(AUDIENCE);
    expect(
      parseOAuthSettings({
        issuer: 'https://id.example.com',
        audience: 'api://divio-mcp',
        resource: 'https://mcp.example.com/mcp',
        writeScope: 'none',
      }),
    ).toMatchObject({ writeScope: null, audience: 'api://divio-mcp' });
  });

  const bad: [string, Parameters<typeof parseOAuthSettings>[0], RegExp][] = [
    ['issuer without audience', { issuer: 'https://id.example.com' }, /needs both/],
    ['http issuer off loopback', { issuer: 'http://id.example.com', audience: AUDIENCE }, /https/],
    [
      'audience not a URL and no resource',
      { issuer: 'https://id.example.com', audience: 'divio' },
      /--oauth-resource/,
    ],
    [
      'scope with a space',
      { issuer: 'https://id.example.com', audience: AUDIENCE, writeScope: 'a b' },
      /one OAuth scope/,
    ],
    ['jwks url alone', { jwksUrl: 'https://id.example.com/jwks' }, /need --oauth-issuer/],
  ];
  for (const [name, values, message] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => parseOAuthSettings(values)).toThrow(ConfigError);
      expect(() => parseOAuthSettings(values)).toThrow(message);
    });
  }

  it('refuses OAuth together with the static bearer token, and allows a public bind with OAuth alone', async () => {
    const factory = createServerFactory({
      client: divio,
      config: defaultServerConfig(),
      log: silentLogger,
    });
    const gate = new OAuthGate(settings(), { writeTools: WRITE_TOOL_NAMES, log: silentLogger });
    await expect(
      startHttpServer(factory, {
        host: '127.0.0.1',
        port: 0,
        authToken: 'x'.repeat(40),
        oauth: gate,
        log: silentLogger,
      }),
    ).rejects.toThrow(HttpConfigError);
    const open = await startHttpServer(factory, {
      host: '0.0.0.0',
      port: 0,
      oauth: gate,
      log: silentLogger,
    });
    servers.push(open);
    expect((await post(open.url.replace('0.0.0.0', '127.0.0.1'), INIT)).status).toBe(401);
  });
});

describe('OAuth: command line and the built server', () => {
  it('reads the flags and the environment variables', () => {
    const fromFlags = parseCli(
      [
        '--transport',
        'http',
        '--oauth-issuer',
        issuer.url,
        '--oauth-audience',
        AUDIENCE,
        '--oauth-write-scope',
        'x:w',
      ],
      {},
    );
    expect(fromFlags.oauth).toMatchObject({ issuer: issuer.url, audience: AUDIENCE, writeScope: 'x:w' });
    expect(fromFlags.notices).toEqual([]);
    const fromEnv = parseCli([], {
      DIVIO_MCP_OAUTH_ISSUER: issuer.url,
      DIVIO_MCP_OAUTH_AUDIENCE: 'api://divio',
      DIVIO_MCP_OAUTH_RESOURCE: 'https://mcp.example.test/mcp',
      DIVIO_MCP_OAUTH_JWKS_URL: `${issuer.url}/jwks`,
    });
    expect(fromEnv.oauth).toMatchObject({ audience: 'api://divio', jwksUrl: `${issuer.url}/jwks` });
    expect(fromEnv.oauth?.resource.href).toBe('https://mcp.example.test/mcp');
    expect(fromEnv.notices.join('\n')).toMatch(/--transport http only/);
    expect(parseCli([], {}).oauth).toBeUndefined();
  });

  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  });
  const entry = new URL('../../dist/index.js', import.meta.url).pathname;
  const spawnServer = (env: Record<string, string>) => {
    const child = spawn(
      process.execPath,
      [
        entry,
        '--sandbox',
        '--transport',
        'http',
        '--port',
        '0',
        '--oauth-issuer',
        issuer.url,
        '--oauth-audience',
        AUDIENCE,
      ],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    return { child, stderr: () => stderr };
  };

  it('the built server serves the metadata, challenges, and accepts a valid token', async () => {
    const { child, stderr } = spawnServer({});
    let url = '';
    for (let waited = 0; waited < 15_000 && !url && child.exitCode === null; waited += 25) {
      url = /MCP endpoint (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr())?.[1] ?? '';
      if (!url) await new Promise((r) => setTimeout(r, 25));
    }
    expect(url, stderr()).not.toBe('');
    const doc = await fetch(url.replace(/\/mcp$/, '/.well-known/oauth-protected-resource/mcp'));
    expect(await doc.json()).toMatchObject({ resource: AUDIENCE, authorization_servers: [issuer.url] });
    const denied = await post(url, INIT);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('resource_metadata=');
    const ok = await post(url, LIST, await issuer.sign({}));
    expect(ok.status).toBe(200);
    // The answer may come as JSON or as one server-sent event.
    const text = await ok.text();
    const json = /^data: (.*)$/m.exec(text)?.[1] ?? text;
    const names = (JSON.parse(json) as { result: { tools: { name: string }[] } }).result.tools.map(
      (t) => t.name,
    );
    expect(names).toContain('list_applications');
    expect(names).not.toContain('create_backup');
  });

  it('the built server refuses OAuth together with DIVIO_MCP_AUTH_TOKEN (exit 2)', async () => {
    const { child, stderr } = spawnServer({ DIVIO_MCP_AUTH_TOKEN: 'y'.repeat(40) });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr()).toMatch(/exclusive/);
  });
});

describe('OAuth: /metrics', () => {
  it('needs a valid access token, like /mcp', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const factory = createServerFactory({
      client: divio,
      config: defaultServerConfig({ pollIntervalMs: 20 }),
      log: silentLogger,
      telemetry: metrics,
    });
    const http = await startHttpServer(factory, {
      host: '127.0.0.1',
      port: 0,
      oauth: new OAuthGate(settings(), { writeTools: WRITE_TOOL_NAMES, log: silentLogger }),
      metrics,
      log: silentLogger,
    });
    servers.push(http);
    const url = http.url.replace(/\/mcp$/, '/metrics');
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('resource_metadata=');
    expect(await none.text()).not.toContain('divio_mcp_');
    const wrong = await fetch(url, {
      headers: { authorization: `Bearer ${await issuer.sign({}, { aud: 'x' })}` },
    });
    expect(wrong.status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${await issuer.sign({})}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('divio_mcp_tool_calls_total');
  });
});
