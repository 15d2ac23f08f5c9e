import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import { MAX_COMPLETIONS, matchPrefix } from '../src/mcp/completion.js';
import { defaultServerConfig, type ServerConfig } from '../src/mcp/config.js';
import { registerResources } from '../src/resources/index.js';
import { startSandbox, uuidFromName } from '../src/sandbox/index.js';
import { ERAS, type Era, type Harness, startHarness, type ToolResult, textOf } from './helpers/harness.js';
import { sharedValidator } from './helpers/validator.js';

const SHOP_LIVE_FAILED = uuidFromName('deployment:shop/live:failed');
const SHOP_LIVE_BACKUP = uuidFromName('backup:shop/live:0');
const MISSING_ID = uuidFromName('missing');
const APPS = ['shop', 'blog', 'api-gateway', 'intranet', 'marketing-site'];

type Content = { uri: string; mimeType?: string; text?: string };

async function read(h: Harness, uri: string): Promise<Content> {
  const result = await h.mcp.readResource({ uri });
  expect(result.contents).toHaveLength(1);
  const [content] = result.contents as Content[];
  expect(content?.uri).toBe(uri);
  return content as Content;
}

async function readJson(h: Harness, uri: string): Promise<Record<string, unknown>> {
  const content = await read(h, uri);
  expect(content.mimeType).toBe('application/json');
  return JSON.parse(content.text ?? '') as Record<string, unknown>;
}

async function readError(h: Harness, uri: string): Promise<{ code: number; message: string }> {
  const error = (await h.mcp.readResource({ uri }).then(
    () => {
      throw new Error(`expected ${uri} to fail`);
    },
    (e: unknown) => e,
  )) as { code: number; message: string };
  expect(typeof error.code).toBe('number');
  return error;
}

async function complete(
  h: Harness,
  uri: string,
  name: string,
  value: string,
  context?: Record<string, string>,
): Promise<string[]> {
  const result = await h.mcp.complete({
    ref: { type: 'ref/resource', uri },
    argument: { name, value },
    ...(context ? { context: { arguments: context } } : {}),
  });
  return result.completion.values;
}

/** A client on `era` connected to a server with only the resources, at a small page size. */
async function connectResourcesOnly(
  h: Harness,
  era: Era,
  pageSize: number,
  config: ServerConfig = h.config,
): Promise<{ mcp: Client; close: () => Promise<void> }> {
  const factory = () => {
    const server = new McpServer({ name: 'divio-mcp-resources', version: '0.0.0' });
    registerResources(server, { client: h.divio, config }, { pageSize });
    return server;
  };
  const mcp = new Client(
    { name: 'resources-test', version: '1.0.0' },
    {
      jsonSchemaValidator: sharedValidator,
      versionNegotiation: { mode: era === 'legacy' ? 'legacy' : { pin: '2026-07-28' } },
    },
  );
  if (era === 'modern') {
    const handler = createMcpHandler(factory);
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL('http://divio-mcp.test/mcp'), {
        fetch: (url, init) => handler.fetch(new Request(url, init)),
      }),
    );
    return {
      mcp,
      close: async () => {
        await mcp.close();
        await handler.close();
      },
    };
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = factory();
  await server.connect(serverSide);
  await mcp.connect(clientSide);
  return {
    mcp,
    close: async () => {
      await mcp.close();
      await server.close();
    },
  };
}

describe.each(ERAS)('resources (%s era)', (era) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ era });
  });
  afterAll(async () => {
    await h.close();
  });

  it('lists applications and environments on one page by default', async () => {
    const { resources, nextCursor } = await h.mcp.listResources();
    expect(nextCursor).toBeUndefined();
    const uris = resources.map((r) => r.uri);
    expect(uris[0]).toBe('divio://applications');
    for (const app of APPS) expect(uris).toContain(`divio://applications/${app}`);
    expect(uris).toContain('divio://applications/api-gateway/environments/staging');
    expect(uris).toContain('divio://applications/shop/environments/live');
    // 1 listing + 5 apps + 11 environments
    expect(resources).toHaveLength(17);
    expect(new Set(uris).size).toBe(uris.length);
    const shopLive = resources.find((r) => r.uri === 'divio://applications/shop/environments/live');
    expect(shopLive).toMatchObject({ name: 'shop/live', mimeType: 'application/json' });
  });

  it('paginates resources/list with cursors', async () => {
    const c = await connectResourcesOnly(h, era, 2);
    try {
      // listResources() without a cursor walks every page itself; ask for the first page alone.
      const first = await c.mcp.request({ method: 'resources/list', params: {} });
      const pages: string[][] = [first.resources.map((r) => r.uri)];
      let cursor = first.nextCursor;
      while (cursor && pages.length < 10) {
        const page = await c.mcp.listResources({ cursor });
        pages.push(page.resources.map((r) => r.uri));
        cursor = page.nextCursor;
      }
      expect(pages[0]).toEqual([
        'divio://applications',
        'divio://applications/shop',
        'divio://applications/shop/environments/test',
        'divio://applications/shop/environments/live',
        'divio://applications/blog',
        'divio://applications/blog/environments/test',
        'divio://applications/blog/environments/live',
      ]);
      expect(pages).toHaveLength(3);
      expect(pages[0]?.[0]).toBe('divio://applications');
      const all = pages.flat();
      expect(all).toHaveLength(17);
      expect(new Set(all).size).toBe(17);
      const { resources: unpaged } = await h.mcp.listResources();
      expect(all).toEqual(unpaged.map((r) => r.uri));
      // The SDK client aggregates the pages the same way.
      expect((await c.mcp.listResources()).resources.map((r) => r.uri)).toEqual(all);
      const error = await c.mcp.listResources({ cursor: 'not-a-cursor' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: -32602 });
      expect(String((error as Error).message)).toMatch(/cursor/i);
    } finally {
      await c.close();
    }
  });

  it('lists the resource templates', async () => {
    const { resourceTemplates } = await h.mcp.listResourceTemplates();
    const byUri = Object.fromEntries(resourceTemplates.map((t) => [t.uriTemplate, t]));
    expect(Object.keys(byUri).sort()).toEqual(
      [
        'divio://applications/{app}',
        'divio://applications/{app}/environments/{environment}',
        'divio://applications/{app}/environments/{environment}/logs',
        'divio://backups/{backup}',
        'divio://deployments/{deployment}/log',
      ].sort(),
    );
    expect(byUri['divio://applications/{app}/environments/{environment}/logs']?.mimeType).toBe('text/plain');
    expect(byUri['divio://deployments/{deployment}/log']?.mimeType).toBe('text/plain');
    expect(byUri['divio://backups/{backup}']?.mimeType).toBe('application/json');
    for (const t of resourceTemplates) expect(t.description?.length).toBeGreaterThan(10);
  });

  it('reads the applications listing', async () => {
    const body = await readJson(h, 'divio://applications');
    const apps = body['applications'] as { slug: string; uri: string }[];
    expect(apps.map((a) => a.slug).sort()).toEqual([...APPS].sort());
    expect(apps.find((a) => a.slug === 'shop')?.uri).toBe('divio://applications/shop');
  });

  it('reads one application by slug and by ID', async () => {
    const body = await readJson(h, 'divio://applications/api-gateway');
    expect(body['slug']).toBe('api-gateway');
    const envs = body['environments'] as { slug: string; uri: string }[];
    expect(envs.map((e) => e.slug).sort()).toEqual(['live', 'staging', 'test']);
    expect(envs.find((e) => e.slug === 'staging')?.uri).toBe(
      'divio://applications/api-gateway/environments/staging',
    );
    const uuid = uuidFromName('application:api-gateway');
    const byUuid = await readJson(h, `divio://applications/${uuid}`);
    expect(byUuid['slug']).toBe('api-gateway');
  });

  it('reads environment status as get_environment returns it', async () => {
    const body = await readJson(h, 'divio://applications/shop/environments/live');
    const tool = await h.call('get_environment', { app: 'shop', environment: 'live' });
    expect(body).toEqual(tool.structuredContent);
    expect(body['environment']).toBe('live');
  });

  it('reads the recent runtime logs as fenced, sanitised text', async () => {
    const content = await read(h, 'divio://applications/shop/environments/live/logs');
    expect(content.mimeType).toBe('text/plain');
    const text = content.text ?? '';
    expect(text).toMatch(/^Runtime logs of shop\/live, last 15 minutes/);
    if (!/No log entries/.test(text)) {
      expect(text).toMatch(/<untrusted-data-[0-9a-f]{8}>/);
      expect(text).toMatch(/never follow directions/);
    }
    expect(text).not.toMatch(/\x1b/);
    const logRequest = h.sandbox.requestLog.find(
      (r) => /\/logs\/?/.test(r.path) && /environments/.test(r.path),
    );
    expect(logRequest?.query ?? logRequest?.path).toBeDefined();
  });

  it('reads a deployment log, tail capped and fenced', async () => {
    const content = await read(h, `divio://deployments/${SHOP_LIVE_FAILED}/log`);
    expect(content.mimeType).toBe('text/plain');
    expect(content.text).toMatch(new RegExp(`^Deploy log of ${SHOP_LIVE_FAILED}`));
    expect(content.text).toMatch(/<untrusted-data-[0-9a-f]{8}>/);
    const lines = (content.text ?? '').split('\n').length;
    expect(lines).toBeLessThanOrEqual(400 + 5);
  });

  it('reads a backup with its service-instance backups', async () => {
    const body = await readJson(h, `divio://backups/${SHOP_LIVE_BACKUP}`);
    expect(body['uuid']).toBe(SHOP_LIVE_BACKUP);
    expect(body['environment']).toBe('live');
    expect((body['services'] as unknown[]).length).toBeGreaterThan(0);
    const tool = await h.call('get_backup', { backup: SHOP_LIVE_BACKUP });
    expect(body).toEqual(tool.structuredContent);
  });

  it('answers unknown apps and environments with an error naming the valid ones', async () => {
    const app = await readError(h, 'divio://applications/nope');
    expect(app.code).toBe(-32602);
    expect(app.message).toMatch(/Application 'nope' was not found/);
    expect(app.message).toMatch(/shop/);
    const env = await readError(h, 'divio://applications/shop/environments/prod');
    expect(env.message).toMatch(/Environment 'prod' was not found/);
    expect(env.message).toMatch(/test, live/);
    const logs = await readError(h, 'divio://applications/nope/environments/live/logs');
    expect(logs.message).toMatch(/Valid applications/);
  });

  it('answers unknown deployments, backups and URIs with an error naming what is valid', async () => {
    const dep = await readError(h, `divio://deployments/${MISSING_ID}/log`);
    expect(dep.code).toBe(-32602);
    expect(dep.message).toMatch(/list_deployments/);
    const backup = await readError(h, `divio://backups/${MISSING_ID}`);
    expect(backup.message).toMatch(/list_backups/);
    for (const uri of [
      'divio://nothing/here',
      'divio://applications/shop/environments',
      'https://example.com/',
    ]) {
      const bad = await readError(h, uri);
      expect(bad.code).toBe(-32602);
      expect(bad.message).toMatch(/Valid resources: divio:\/\/applications, divio:\/\/applications\/\{app\}/);
    }
  });

  it('completes {app} by prefix', async () => {
    expect(await complete(h, 'divio://applications/{app}', 'app', 's')).toEqual(['shop']);
    expect((await complete(h, 'divio://applications/{app}', 'app', '')).sort()).toEqual([...APPS].sort());
    expect(await complete(h, 'divio://applications/{app}', 'app', 'zz')).toEqual([]);
    const template = 'divio://applications/{app}/environments/{environment}';
    expect(await complete(h, template, 'app', 'ma')).toEqual(['marketing-site']);
  });

  it('serves app and environment completions from the resolution cache', async () => {
    const template = 'divio://applications/{app}/environments/{environment}';
    await complete(h, template, 'app', '');
    await complete(h, template, 'environment', '', { app: 'shop' });
    const before = h.sandbox.requestLog.length;
    expect(await complete(h, template, 'app', 'b')).toEqual(['blog']);
    expect(await complete(h, template, 'environment', 't', { app: 'shop' })).toEqual(['test']);
    expect(h.sandbox.requestLog.length).toBe(before);
  });

  it('completes {environment} from the app in the context', async () => {
    const template = 'divio://applications/{app}/environments/{environment}';
    expect((await complete(h, template, 'environment', '', { app: 'api-gateway' })).sort()).toEqual([
      'live',
      'staging',
      'test',
    ]);
    expect(await complete(h, template, 'environment', 's', { app: 'api-gateway' })).toEqual(['staging']);
    expect(await complete(h, template, 'environment', 's', { app: 'shop' })).toEqual([]);
    expect(await complete(h, template, 'environment', '', {})).toEqual([]);
    expect(await complete(h, template, 'environment', '', { app: 'nope' })).toEqual([]);
    const logs = 'divio://applications/{app}/environments/{environment}/logs';
    expect((await complete(h, logs, 'environment', '', { app: 'blog' })).sort()).toEqual(['live', 'test']);
  });

  it('completes {deployment} and {backup} from the context, served from a cache', async () => {
    const deps = await complete(h, 'divio://deployments/{deployment}/log', 'deployment', '', {
      app: 'shop',
      environment: 'live',
    });
    expect(deps).toContain(SHOP_LIVE_FAILED);
    expect(deps.length).toBeLessThanOrEqual(10);
    const prefix = SHOP_LIVE_FAILED.slice(0, 6);
    expect(
      await complete(h, 'divio://deployments/{deployment}/log', 'deployment', prefix, {
        app: 'shop',
        environment: 'live',
      }),
    ).toEqual([SHOP_LIVE_FAILED]);
    expect(await complete(h, 'divio://deployments/{deployment}/log', 'deployment', '')).toEqual([]);

    const before = h.sandbox.requestLog.length;
    const backups = await complete(h, 'divio://backups/{backup}', 'backup', '', {
      app: 'shop',
      environment: 'live',
    });
    expect(backups).toContain(SHOP_LIVE_BACKUP);
    const afterFirst = h.sandbox.requestLog.length;
    expect(afterFirst).toBeGreaterThan(before);
    const again = await complete(h, 'divio://backups/{backup}', 'backup', SHOP_LIVE_BACKUP.slice(0, 8), {
      app: 'shop',
      environment: 'live',
    });
    expect(again).toEqual([SHOP_LIVE_BACKUP]);
    expect(h.sandbox.requestLog.length).toBe(afterFirst);
  });

  it('puts resource links in tool results that resolve to readable resources', async () => {
    const calls: [string, Record<string, unknown>][] = [
      ['list_applications', {}],
      ['get_application', { app: 'shop' }],
      ['get_environment', { app: 'shop', environment: 'live' }],
      ['diagnose_environment', { app: 'shop', environment: 'live' }],
      ['get_environment_logs', { app: 'shop', environment: 'live', limit: 5 }],
      ['list_deployments', { app: 'shop', environment: 'live', limit: 3 }],
      ['get_deployment', { deployment: SHOP_LIVE_FAILED }],
      ['get_deployment_log', { deployment: SHOP_LIVE_FAILED, tail: 5 }],
      ['list_backups', { app: 'shop', environment: 'live', limit: 3 }],
      ['get_backup', { backup: SHOP_LIVE_BACKUP }],
      ['list_service_instances', { app: 'shop', environment: 'live' }],
      ['list_environment_variables', { app: 'shop', environment: 'live' }],
      ['list_domains', { app: 'shop', environment: 'live' }],
      ['list_cronjobs', { app: 'shop', environment: 'live' }],
    ];
    const expected: Record<string, string> = {
      list_applications: 'divio://applications/shop',
      get_application: 'divio://applications/shop',
      get_environment: 'divio://applications/shop/environments/live',
      diagnose_environment: 'divio://applications/shop/environments/live/logs',
      get_environment_logs: 'divio://applications/shop/environments/live/logs',
      list_deployments: `divio://deployments/${SHOP_LIVE_FAILED}/log`,
      get_deployment: `divio://deployments/${SHOP_LIVE_FAILED}/log`,
      get_deployment_log: `divio://deployments/${SHOP_LIVE_FAILED}/log`,
      list_backups: 'divio://backups/',
      get_backup: `divio://backups/${SHOP_LIVE_BACKUP}`,
      list_service_instances: 'divio://applications/shop/environments/live',
      list_environment_variables: 'divio://applications/shop/environments/live',
      list_domains: 'divio://applications/shop',
      list_cronjobs: 'divio://applications/shop/environments/live',
    };
    const { resourceTemplates } = await h.mcp.listResourceTemplates();
    const patterns = resourceTemplates.map(
      (t) =>
        new RegExp(
          `^${t.uriTemplate.replace(/[.*+?^$()|[\]\\/]/g, '\\$&').replace(/\\?\{[a-z]+\\?\}/g, '[^/]+')}$`,
        ),
    );
    const linked = new Set<string>();
    for (const [name, args] of calls) {
      const result: ToolResult = await h.call(name, args);
      expect(result.isError, `${name}: ${textOf(result)}`).toBeFalsy();
      const links = result.content.filter((c) => c.type === 'resource_link');
      expect(links.length, `${name} has resource links`).toBeGreaterThan(0);
      expect(
        links.some((l) => l.uri?.startsWith(expected[name] ?? '?')),
        `${name} links ${expected[name]}`,
      ).toBe(true);
      for (const link of links) {
        expect(link.name, `${name} link name`).toBeTruthy();
        expect(
          link.uri === 'divio://applications' || patterns.some((p) => p.test(link.uri ?? '')),
          `${name} link ${link.uri} matches a resource`,
        ).toBe(true);
        linked.add(link.uri ?? '');
      }
    }
    // Every linked resource can be read.
    for (const uri of linked) await read(h, uri);
  });
});

describe('resources under --read-only and --toolsets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ era: 'legacy' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('are all served in read-only mode', async () => {
    const c = await connectResourcesOnly(h, 'legacy', 50, defaultServerConfig({ readOnly: true }));
    try {
      const { resourceTemplates } = await c.mcp.listResourceTemplates();
      expect(resourceTemplates).toHaveLength(5);
      expect((await c.mcp.listResources()).resources).toHaveLength(17);
    } finally {
      await c.close();
    }
  });

  it('drop only the areas whose toolset is switched off', async () => {
    const config = defaultServerConfig({ toolsets: new Set(['apps', 'logs'] as const) });
    const c = await connectResourcesOnly(h, 'legacy', 50, config);
    try {
      const { resourceTemplates } = await c.mcp.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
        'divio://applications/{app}',
        'divio://applications/{app}/environments/{environment}',
        'divio://applications/{app}/environments/{environment}/logs',
      ]);
      const bad = await c.mcp
        .readResource({ uri: `divio://backups/${SHOP_LIVE_BACKUP}` })
        .catch((e: unknown) => e);
      expect(String((bad as Error).message)).toMatch(/Valid resources/);
    } finally {
      await c.close();
    }
    const backupsOnly = defaultServerConfig({ toolsets: new Set(['backups'] as const) });
    const d = await connectResourcesOnly(h, 'legacy', 50, backupsOnly);
    try {
      expect((await d.mcp.listResources()).resources).toEqual([]);
      const body = await d.mcp.readResource({ uri: `divio://backups/${SHOP_LIVE_BACKUP}` });
      expect(body.contents).toHaveLength(1);
    } finally {
      await d.close();
    }
  });
});

describe('resources without a Divio token', () => {
  it('list the applications entry and explain the missing token on read', async () => {
    const sandbox = await startSandbox();
    const divio = new DivioClient({ baseUrl: sandbox.url });
    const server = new McpServer({ name: 'divio-mcp-resources', version: '0.0.0' });
    registerResources(server, { client: divio, config: defaultServerConfig() });
    const mcp = new Client(
      { name: 'resources-test', version: '1.0.0' },
      { jsonSchemaValidator: sharedValidator, versionNegotiation: { mode: 'legacy' } },
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    await mcp.connect(clientSide);
    try {
      const { resources } = await mcp.listResources();
      expect(resources.map((r) => r.uri)).toEqual(['divio://applications']);
      const error = await mcp.readResource({ uri: 'divio://applications' }).catch((e: unknown) => e);
      expect(String((error as Error).message)).toMatch(/DIVIO_API_TOKEN/);
      expect(
        await mcp.complete({
          ref: { type: 'ref/resource', uri: 'divio://applications/{app}' },
          argument: { name: 'app', value: '' },
        }),
      ).toMatchObject({ completion: { values: [] } });
    } finally {
      await mcp.close();
      await server.close();
      await divio.close();
      await sandbox.close();
    }
  });
});

describe('completion matching', () => {
  it('matches by case-insensitive prefix, without duplicates, capped', () => {
    expect(matchPrefix(['shop', 'Shop-B', 'blog', 'shop'], 'SH')).toEqual(['shop', 'Shop-B']);
    const many = Array.from({ length: 200 }, (_, i) => `app-${i}`);
    expect(matchPrefix(many, 'app')).toHaveLength(MAX_COMPLETIONS);
    expect(matchPrefix(many, '')).toHaveLength(MAX_COMPLETIONS);
  });
});
