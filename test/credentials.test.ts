import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  DivioClient,
  findCredentials,
  parseNetrc,
  proxyFromEnv,
  proxyProblem,
  zoneFromEnv,
} from '../src/client/index.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';

const files = (map: Record<string, string>) => ({
  home: '/home/someone',
  readFile: (p: string) => {
    const text = map[p];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return text;
  },
});

describe('netrc parsing', () => {
  it('reads machine entries, default, quoted tokens and comments, and skips macros', () => {
    const entries = parseNetrc(
      [
        '# written by divio login',
        'machine control.divio.com',
        '  login ops@example.com',
        '  password s3cret',
        'machine "api.divio.com" login "a b" password "with \\" quote"',
        'macdef init',
        'machine evil.example password fromamacro',
        '',
        'default login anon password anonpw',
      ].join('\n'),
    );
    expect(entries).toEqual([
      { machine: 'control.divio.com', login: 'ops@example.com', password: 's3cret' },
      { machine: 'api.divio.com', login: 'a b', password: 'with " quote' },
      { machine: null, login: 'anon', password: 'anonpw' },
    ]);
  });

  it('reads one-line entries and ignores unknown tokens', () => {
    expect(parseNetrc('machine a.example login x password y port 21 account z')).toEqual([
      { machine: 'a.example', login: 'x', password: 'y', account: 'z' },
    ]);
  });
});

describe('where the token comes from (first found wins)', () => {
  const netrc = 'machine control.divio.com login ops@example.com password from-control\n';

  it('DIVIO_API_TOKEN wins over netrc', () => {
    const c = findCredentials({ DIVIO_API_TOKEN: ' from-env ' }, files({ '/home/someone/.netrc': netrc }));
    expect(c).toEqual({ token: 'from-env', source: 'DIVIO_API_TOKEN', warnings: [] });
  });

  it('then ~/.netrc machine control.<zone>, as divio login writes it; the source never holds the token', () => {
    const c = findCredentials({}, files({ '/home/someone/.netrc': netrc }));
    expect(c.token).toBe('from-control');
    expect(c.source).toBe('~/.netrc (machine control.divio.com)');
    expect(c.source).not.toContain('from-control');
  });

  it('then machine api.<zone> (older CLI versions wrote both)', () => {
    const c = findCredentials(
      {},
      files({ '/home/someone/.netrc': 'machine api.divio.com password from-api\nmachine other password x' }),
    );
    expect(c).toMatchObject({ token: 'from-api', source: '~/.netrc (machine api.divio.com)' });
  });

  it('prefers control.<zone> when both exist, and follows DIVIO_ZONE', () => {
    const text = [
      'machine api.divio.com password api-default',
      'machine api.dev.aldryn.net password api-dev',
      'machine control.dev.aldryn.net password control-dev',
    ].join('\n');
    expect(findCredentials({}, files({ '/home/someone/.netrc': text })).token).toBe('api-default');
    expect(
      findCredentials({ DIVIO_ZONE: 'dev.aldryn.net' }, files({ '/home/someone/.netrc': text })).token,
    ).toBe('control-dev');
  });

  it('honours NETRC_PATH, and says when it cannot be read', () => {
    const c = findCredentials(
      { NETRC_PATH: '/etc/divio/netrc' },
      files({ '/etc/divio/netrc': netrc, '/home/someone/.netrc': 'machine control.divio.com password no' }),
    );
    expect(c).toMatchObject({
      token: 'from-control',
      source: 'NETRC_PATH (/etc/divio/netrc) (machine control.divio.com)',
    });
    const missing = findCredentials({ NETRC_PATH: '/nope' }, files({}));
    expect(missing.token).toBeUndefined();
    expect(missing.warnings).toEqual(['NETRC_PATH points to /nope, which cannot be read (ENOENT).']);
  });

  it('no token anywhere: source none, no warning for a missing ~/.netrc', () => {
    expect(findCredentials({}, files({}))).toEqual({ token: undefined, source: 'none', warnings: [] });
    expect(
      findCredentials({}, files({ '/home/someone/.netrc': 'machine github.com password x' })).token,
    ).toBe(undefined);
  });

  it('derives the zone from DIVIO_ZONE, else from the host of DIVIO_API_URL', () => {
    expect(zoneFromEnv({})).toBe('divio.com');
    expect(zoneFromEnv({ DIVIO_ZONE: 'dev.aldryn.net' })).toBe('dev.aldryn.net');
    expect(zoneFromEnv({ DIVIO_API_URL: 'https://api.example.org/' })).toBe('example.org');
    expect(zoneFromEnv({ DIVIO_ZONE: 'https://api.zone.test' })).toBe('zone.test');
  });
});

describe('proxies', () => {
  let sandbox: Sandbox;
  let proxy: Server;
  let proxyUrl: string;
  const seen: string[] = [];
  beforeAll(async () => {
    sandbox = await startSandbox();
    // A forward proxy on loopback: plain-HTTP requests arrive in absolute form and are passed on.
    proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const target = new URL(req.url ?? '/');
      const upstream = httpRequest(
        target,
        { method: req.method, headers: { ...req.headers, host: target.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    // undici tunnels through CONNECT by default, for http targets too.
    proxy.on('connect', (req, socket, head) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await sandbox.close();
  });

  it('reads HTTP_PROXY/HTTPS_PROXY/NO_PROXY, lower-case names first', () => {
    expect(proxyFromEnv({})).toBeUndefined();
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'localhost' })).toEqual({
      httpsProxy: 'http://p:3128',
      noProxy: 'localhost',
    });
    expect(proxyFromEnv({ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2' })).toEqual({
      httpProxy: 'http://lower:1',
    });
    // Without a scheme: http://, as curl and Python's requests read it.
    expect(proxyFromEnv({ HTTPS_PROXY: 'proxy.corp:3128', HTTP_PROXY: 'user:pw@p:8080' })).toEqual({
      httpsProxy: 'http://proxy.corp:3128',
      httpProxy: 'http://user:pw@p:8080',
    });
    expect(proxyProblem(proxyFromEnv({ HTTPS_PROXY: 'proxy.corp:3128' }))).toBeUndefined();
  });

  it('sends API requests through the proxy when one is configured', async () => {
    const client = new DivioClient({
      baseUrl: sandbox.url,
      token: sandbox.token,
      proxy: { httpProxy: proxyUrl },
    });
    try {
      const page = await client.applications.list({});
      expect(page.results.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    const host = new URL(sandbox.url).host;
    expect(
      seen.some(
        (line) => line === `CONNECT ${host}` || line.startsWith(`GET ${sandbox.url}/apps/v3/applications/`),
      ),
      seen.join('\n'),
    ).toBe(true);
  });

  it('a proxy address that is not an http(s) URL stops the client at construction, naming the variable', () => {
    // A bare host:port parses as a URL whose scheme is the host: refused too (undici would fail every request).
    for (const bad of ['proxy corp:3128', 'proxy.corp:3128', 'socks5://user:hunter2@p:1080']) {
      expect(() => new DivioClient({ baseUrl: sandbox.url, proxy: { httpsProxy: bad } }), bad).toThrow(
        /^HTTPS_PROXY \(or https_proxy\) is not an http:\/\/ or https:\/\/ URL: write it as http:\/\/host:port/,
      );
      // The value is not repeated: it may hold a password.
      expect(proxyProblem({ httpsProxy: bad })).not.toContain('hunter2');
    }
    expect(proxyProblem({ httpProxy: 'p:3128' })).toMatch(/^HTTP_PROXY \(or http_proxy\)/);
    expect(
      proxyProblem({ httpProxy: 'http://p:3128', httpsProxy: 'https://user:pw@p:3129' }),
    ).toBeUndefined();
    expect(
      () => new DivioClient({ baseUrl: sandbox.url, proxy: { httpProxy: 'http://p:3128' } }),
    ).not.toThrow();
  });

  it('a closed client sends nothing more, and says nothing was sent', async () => {
    // Retries left on: a closed client is not tried again (attempts stay at 1).
    const client = new DivioClient({ baseUrl: sandbox.url, token: sandbox.token });
    await client.applications.list({});
    await client.close();
    sandbox.clearRequestLog();
    const err = await client.applications.list({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).mayHaveReachedServer).toBe(false);
    expect((err as ConnectionError).attempts).toBe(1);
    expect(sandbox.requestLog).toEqual([]);
    // Closed before its first request, too (its HTTP client was never made).
    const unused = new DivioClient({ baseUrl: sandbox.url, token: sandbox.token, retry: { maxRetries: 0 } });
    await unused.close();
    const again = await unused.applications.list({}).catch((e: unknown) => e);
    expect((again as ConnectionError).mayHaveReachedServer).toBe(false);
    expect(sandbox.requestLog).toEqual([]);
    // With a dispatcher of the caller's (left open: it is not the client's to close), too.
    const agent = new Agent();
    const injected = new DivioClient({
      baseUrl: sandbox.url,
      token: sandbox.token,
      dispatcher: agent,
      retry: { maxRetries: 0 },
    });
    await injected.close();
    const third = await injected.applications.list({}).catch((e: unknown) => e);
    expect(third, String(third)).toBeInstanceOf(ConnectionError);
    expect((third as ConnectionError).mayHaveReachedServer).toBe(false);
    expect(sandbox.requestLog).toEqual([]);
    await agent.close();
  });

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    seen.length = 0;
    const client = new DivioClient({
      baseUrl: sandbox.url,
      token: sandbox.token,
      proxy: { httpProxy: proxyUrl, noProxy: '127.0.0.1' },
    });
    try {
      await client.applications.list({});
    } finally {
      await client.close();
    }
    expect(seen).toEqual([]);
  });
});
