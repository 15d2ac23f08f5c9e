import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDoctor, logLocations, runDoctor } from '../src/cli/doctor.js';
import { CLIENTS, formatSnippet, snippetFor } from '../src/cli/snippets.js';
import { didYouMean, editDistance } from '../src/cli/suggest.js';
import { defaultServerConfig } from '../src/mcp/config.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';

describe('divio-mcp doctor', () => {
  let sandbox: Sandbox;
  let home: string;
  beforeAll(async () => {
    sandbox = await startSandbox();
    home = mkdtempSync(join(tmpdir(), 'divio-doctor-'));
  });
  afterAll(async () => {
    await sandbox.close();
    rmSync(home, { recursive: true, force: true });
  });

  const creds = (token: string | undefined, source = 'DIVIO_API_TOKEN') => ({
    token,
    baseUrl: sandbox.url,
    credentials: { token, source, warnings: [] },
  });

  it('is ready with a working token: says who it is and which organisations it sees, never the token', async () => {
    const report = await runDoctor({ env: {}, client: creds(sandbox.token) });
    expect(report.ready).toBe(true);
    const text = formatDoctor(report);
    expect(text).toMatch(/ok {3}Token check +GET \/iam\/v3\/me\/ answered: "dev@acme\.example"/);
    expect(text).toContain('"Acme Corp"');
    expect(text).toContain('Token          from DIVIO_API_TOKEN');
    expect(text).toMatch(/Ready:/);
    expect(text).not.toContain(sandbox.token);
  });

  it('is not ready with a rejected token, and says how to get a new one for the zone', async () => {
    const report = await runDoctor({ env: { DIVIO_ZONE: 'dev.aldryn.net' }, client: creds('not-the-token') });
    expect(report.ready).toBe(false);
    const check = report.checks.find((c) => c.name === 'Token check');
    expect(check?.ok).toBe(false);
    expect(check?.fix).toContain('https://control.dev.aldryn.net/account/access-tokens/');
    expect(formatDoctor(report)).not.toContain('not-the-token');
  });

  it('reports a proxy variable that is not an http(s) URL instead of failing, without repeating it', async () => {
    const report = await runDoctor({
      env: {},
      client: { ...creds(sandbox.token), proxy: { httpsProxy: 'user:s3cret@proxy.corp:3128' } },
    });
    expect(report.ready).toBe(false);
    const check = report.checks.find((c) => c.name === 'Proxy');
    expect(check?.ok).toBe(false);
    expect(check?.fix).toMatch(/^HTTPS_PROXY \(or https_proxy\) is not an http:\/\/ or https:\/\/ URL/);
    expect(formatDoctor(report)).not.toContain('s3cret');
    expect(report.checks.some((c) => c.name === 'Logs')).toBe(true);
  });

  it('is not ready without a token and names both ways to provide one', async () => {
    const report = await runDoctor({ env: {}, client: creds(undefined, 'none') });
    expect(report.ready).toBe(false);
    const check = report.checks.find((c) => c.name === 'Token');
    expect(check?.fix).toMatch(/divio login[\s\S]*DIVIO_API_TOKEN[\s\S]*--sandbox/);
  });

  it('fails an old Node.js and reports an unreachable API with a network hint', async () => {
    const report = await runDoctor({
      env: {},
      nodeVersion: 'v18.19.0',
      timeoutMs: 2_000,
      client: {
        token: 't',
        baseUrl: 'http://127.0.0.1:9',
        credentials: { token: 't', source: 'x', warnings: [] },
      },
    });
    expect(report.checks.find((c) => c.name === 'Node.js')?.ok).toBe(false);
    const check = report.checks.find((c) => c.name === 'Token check');
    expect(check?.ok).toBe(false);
    expect(check?.fix).toMatch(/proxy/);
  });

  it('fails on policy entries that match no environment, and passes when every entry matches', async () => {
    const bad = await runDoctor({
      env: {},
      client: creds(sandbox.token),
      config: defaultServerConfig({ protectedEnvironments: ['shop/live', 'nosuchapp/live'] }),
    });
    expect(bad.ready).toBe(false);
    const failed = bad.checks.filter((c) => c.name === 'Policies' && c.ok === false);
    expect(failed.map((c) => c.detail)).toEqual([
      '--protected-environments entry "nosuchapp/live" matches no environment this token can see, so it protects nothing',
    ]);
    const good = await runDoctor({
      env: {},
      client: creds(sandbox.token),
      config: defaultServerConfig({ readOnlyEnvironments: ['shop/live', 'test'] }),
    });
    expect(good.ready).toBe(true);
    expect(good.checks.find((c) => c.name === 'Policies')).toMatchObject({ ok: true });
  });

  it('names where each client keeps the server log, per OS', () => {
    expect(logLocations('darwin')[0]).toContain('~/Library/Logs/Claude/');
    expect(logLocations('win32')[0]).toContain('%APPDATA%\\Claude\\logs\\');
    expect(logLocations('linux').join('\n')).toContain('--log-file PATH');
  });
});

describe('divio-mcp config <client>', () => {
  const base = {
    node: '/opt/node/bin/node',
    entry: '/opt/divio-mcp/dist/index.js',
    platform: 'darwin' as const,
  };

  it('prints valid JSON with absolute paths and the flags passed through, for every JSON client', () => {
    for (const client of CLIENTS.filter((c) => c !== 'claude-code')) {
      const s = snippetFor({ ...base, client, flags: ['--sandbox', '--read-only'] });
      const parsed = JSON.parse(s.text) as Record<
        string,
        Record<string, { command: string; args: string[] }>
      >;
      const server = (parsed['mcpServers'] ?? parsed['servers'])?.['divio'];
      expect(server?.command, client).toBe('/opt/node/bin/node');
      expect(server?.args, client).toEqual(['/opt/divio-mcp/dist/index.js', '--sandbox', '--read-only']);
      expect(s.where.length, client).toBeGreaterThan(0);
      expect(formatSnippet(client, s)).toContain(s.text);
    }
  });

  it('asks for a token where the sandbox is not used; VS Code keeps it out of the file', () => {
    const desktop = JSON.parse(snippetFor({ ...base, client: 'claude-desktop', flags: [] }).text);
    expect(desktop.mcpServers.divio.env).toEqual({ DIVIO_API_TOKEN: 'your-token' });
    const vscode = JSON.parse(snippetFor({ ...base, client: 'vscode', flags: [] }).text);
    expect(vscode.servers.divio).toMatchObject({
      type: 'stdio',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a VS Code input reference
      env: { DIVIO_API_TOKEN: '${input:divio-token}' },
    });
    expect(vscode.inputs[0]).toMatchObject({ id: 'divio-token', password: true });
  });

  it('gives the claude mcp add line, quoted for the shell', () => {
    const s = snippetFor({
      ...base,
      entry: '/Users/a b/divio-mcp/dist/index.js',
      client: 'claude-code',
      flags: ['--sandbox'],
    });
    expect(s.text).toBe(
      "claude mcp add --scope user divio -- /opt/node/bin/node '/Users/a b/divio-mcp/dist/index.js' --sandbox",
    );
  });

  it('names the config file per OS', () => {
    expect(snippetFor({ ...base, client: 'claude-desktop', flags: [] }).where[0]).toBe(
      '~/Library/Application Support/Claude/claude_desktop_config.json',
    );
    expect(snippetFor({ ...base, platform: 'win32', client: 'claude-desktop', flags: [] }).where[0]).toBe(
      '%APPDATA%\\Claude\\claude_desktop_config.json',
    );
    expect(snippetFor({ ...base, client: 'windsurf', flags: [] }).where[0]).toBe(
      '~/.codeium/windsurf/mcp_config.json',
    );
  });
});

describe('did you mean', () => {
  it('measures edits, including adjacent swaps', () => {
    expect(editDistance('doctor', 'doctor')).toBe(0);
    expect(editDistance('doctr', 'doctor')).toBe(1);
    expect(editDistance('dcotor', 'doctor')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only what is within a typo of the input', () => {
    expect(didYouMean('sandbx', ['sandbox', 'serve'])).toBe(" Did you mean 'sandbox'?");
    expect(didYouMean('deploy', ['sandbox', 'serve'])).toBe('');
  });
});

describe('README install links', () => {
  it('decode to the sandbox configuration for VS Code and Cursor', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const vscode = /\[VS Code\]\((https:\/\/insiders\.vscode\.dev\/redirect\?url=[^)]+)\)/.exec(readme)?.[1];
    const cursor = /\[Cursor\]\((cursor:\/\/anysphere\.cursor-deeplink\/mcp\/install\?[^)]+)\)/.exec(
      readme,
    )?.[1];
    expect(vscode).toBeDefined();
    expect(cursor).toBeDefined();
    const inner = decodeURIComponent(new URL(vscode as string).searchParams.get('url') ?? '');
    expect(inner.startsWith('vscode:mcp/install?')).toBe(true);
    expect(JSON.parse(decodeURIComponent(inner.slice('vscode:mcp/install?'.length)))).toEqual({
      name: 'divio',
      command: 'npx',
      args: ['-y', 'divio-mcp', '--sandbox'],
    });
    const params = new URL(cursor as string).searchParams;
    expect(params.get('name')).toBe('divio');
    expect(JSON.parse(Buffer.from(params.get('config') ?? '', 'base64').toString('utf8'))).toEqual({
      command: 'npx',
      args: ['-y', 'divio-mcp', '--sandbox'],
    });
  });
});
