import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidFromName } from '../src/sandbox/index.js';
import { allTools } from '../src/tools/index.js';
import { ERAS, type Harness, startHarness, textOf } from './helpers/harness.js';

type ListedTool = {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
};

const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;
const NAME =
  /^(list|get|create|diagnose|deploy|restore|download|set|update|delete|add|remove|cancel)_[a-z]+(_[a-z]+)*$/;

/** Happy-path arguments for every read-only tool; write tools are covered by their own suites. */
const SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  list_organisations: {},
  list_applications: { organisation: 'Acme Corp' },
  get_application: { app: 'shop' },
  get_environment: { app: 'shop', environment: 'live' },
  diagnose_environment: { app: 'shop', environment: 'live' },
  get_environment_logs: { app: 'shop', environment: 'live', limit: 20 },
  list_deployments: { app: 'shop', environment: 'live' },
  get_deployment: { deployment: uuidFromName('deployment:shop/live:failed') },
  get_deployment_log: { app: 'shop', environment: 'live', tail: 20 },
  list_backups: { app: 'shop', environment: 'live' },
  get_backup: { backup: uuidFromName('backup:shop/live:0') },
  create_backup: { app: 'blog', environment: 'test' },
  list_service_instances: { app: 'intranet', environment: 'test' },
  list_environment_variables: { app: 'shop', environment: 'live' },
  list_domains: { app: 'shop' },
  list_cronjobs: { app: 'shop', environment: 'live' },
};

describe('tool definitions (allTools)', () => {
  it('has unique snake_case verb_noun names', () => {
    const names = allTools.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(NAME);
  });

  for (const tool of allTools) {
    it(`${tool.name}: title, description, annotations and schemas`, () => {
      expect(tool.title.trim().length, 'title').toBeGreaterThan(0);
      expect(tool.description.length, 'description length').toBeLessThanOrEqual(300);
      expect(tool.description.trimEnd()).toMatch(/\.$/);
      for (const hint of HINTS) expect(typeof tool.annotations[hint], hint).toBe('boolean');
      if (tool.annotations.readOnlyHint) expect(tool.annotations.destructiveHint).toBe(false);
      expect(tool.input).toBeDefined();
      expect(tool.output).toBeDefined();
      expect(typeof tool.handler).toBe('function');
      expect(typeof tool.render).toBe('function');
      if (tool.name.startsWith('list_')) {
        // Lists take a bounded limit and a cursor and always say whether there is more.
        expect(Object.keys(tool.input.shape), 'list input').toEqual(
          expect.arrayContaining(['limit', 'cursor']),
        );
        expect(Object.keys(tool.output.shape), 'list output').toEqual(
          expect.arrayContaining(['has_more', 'next_cursor']),
        );
        expect(tool.input.shape.limit.safeParse(1000).success, 'limit is bounded').toBe(false);
      }
    });
  }
});

describe.each(ERAS)('tools/list (%s era)', (era) => {
  let h: Harness;
  let tools: ListedTool[];
  beforeAll(async () => {
    h = await startHarness({ era });
    tools = (await h.mcp.listTools()).tools as unknown as ListedTool[];
  });
  afterAll(async () => {
    await h.close();
  });

  it('lists every registered tool, once', () => {
    expect(tools.map((t) => t.name)).toEqual(allTools.map((t) => t.name));
  });

  it('every listed tool satisfies the invariants', () => {
    for (const t of tools) {
      expect(t.name, t.name).toMatch(NAME);
      expect(t.title?.trim().length ?? 0, `${t.name} title`).toBeGreaterThan(0);
      expect(t.description?.length ?? 0, `${t.name} description`).toBeLessThanOrEqual(300);
      expect(t.description ?? '', `${t.name} description`).toMatch(/\.$/);
      for (const hint of HINTS) expect(typeof t.annotations?.[hint], `${t.name} ${hint}`).toBe('boolean');
      if (t.annotations?.['readOnlyHint'] === true)
        expect(t.annotations['destructiveHint'], `${t.name} destructiveHint`).toBe(false);
      expect(t.inputSchema['type'], `${t.name} inputSchema`).toBe('object');
      expect(t.outputSchema?.['type'], `${t.name} outputSchema`).toBe('object');
      for (const key of ['anyOf', 'oneOf', 'allOf'])
        expect(t.inputSchema, `${t.name} ${key}`).not.toHaveProperty(key);
    }
  });

  it('stays under 16 KB of JSON', () => {
    const size = Buffer.byteLength(JSON.stringify({ tools }), 'utf8');
    console.log(`tools/list (${era}): ${tools.length} tools, ${size} bytes`);
    expect(size).toBeLessThan(16_384);
  });

  it('matches the reviewed snapshot', async () => {
    const snapshot = tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      annotations: t.annotations,
      inputSchema: t.inputSchema,
      outputSchema: t.outputSchema,
    }));
    // One file for both eras: the advertised definitions must not depend on the protocol revision.
    // Stored as .snap so the formatter leaves it byte-exact.
    await expect(`${JSON.stringify(snapshot, null, 2)}\n`).toMatchFileSnapshot(
      './__snapshots__/tools-list.json.snap',
    );
  });
});

describe('read-only mode and toolsets', () => {
  it('read-only mode hides every tool whose readOnlyHint is false and keeps the rest', async () => {
    const h = await startHarness({ config: { readOnly: true } });
    try {
      const listed = (await h.mcp.listTools()).tools.map((t) => t.name);
      const expected = allTools.filter((t) => t.annotations.readOnlyHint).map((t) => t.name);
      expect(listed).toEqual(expected);
      expect(listed).not.toContain('create_backup');
      const hidden = allTools.filter((t) => !t.annotations.readOnlyHint);
      expect(hidden.length).toBeGreaterThan(0);
      // A hidden tool is not registered at all: calling it is refused (protocol error or isError result).
      for (const t of hidden) {
        const outcome = await h.call(t.name, SAMPLE_ARGS[t.name] ?? {}).then(
          (r) => (r.isError ? 'error-result' : 'ran'),
          () => 'rejected',
        );
        expect(outcome, t.name).not.toBe('ran');
      }
      expect(h.sandbox.requestLog.filter((e) => e.method !== 'GET')).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('toolsets filtering lists only the tools of the chosen toolsets', async () => {
    const h = await startHarness({ config: { toolsets: new Set(['logs'] as const) } });
    try {
      const listed = (await h.mcp.listTools()).tools.map((t) => t.name);
      const expected = allTools.filter((t) => t.toolset === 'logs').map((t) => t.name);
      expect(expected.length).toBeGreaterThan(0);
      expect(listed).toEqual(expected);
      expect(listed).toContain('get_environment_logs');
    } finally {
      await h.close();
    }
  });
});

describe('structuredContent validates against the full output schemas', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('has happy-path arguments for every read-only tool', () => {
    for (const t of allTools.filter((x) => x.annotations.readOnlyHint)) {
      expect(SAMPLE_ARGS, t.name).toHaveProperty(t.name);
    }
  });

  for (const tool of allTools) {
    const args = SAMPLE_ARGS[tool.name];
    if (!args) continue;
    it(`${tool.name}`, async () => {
      const r = await h.call(tool.name, args);
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(() => tool.output.parse(r.structuredContent)).not.toThrow();
      expect(textOf(r).length).toBeGreaterThan(0);
    });
  }
});
