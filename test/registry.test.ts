import { fromJsonSchema } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidFromName } from '../src/sandbox/index.js';
import { INSTRUCTIONS } from '../src/server.js';
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

/** A copy with object keys in sorted order, arrays kept in order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;
const NAME =
  /^(list|get|create|diagnose|deploy|restore|download|set|update|delete|add|remove|cancel|stop)_[a-z]+(_[a-z]+)*$/;

/** Happy-path arguments for every read-only tool; write tools are covered by their own suites. */
const SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  list_organisations: {},
  list_applications: { organisation: 'Acme Corp' },
  get_application: { app: 'shop' },
  get_environment: { app: 'shop', environment: 'live' },
  diagnose_environment: { app: 'shop', environment: 'live' },
  get_fleet_overview: { organisation: 'Acme Corp' },
  get_environment_logs: { app: 'shop', environment: 'live', limit: 20 },
  get_environment_metrics: { app: 'shop', environment: 'live' },
  list_activities: { app: 'api-gateway', since: '2d' },
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

/** Every tool-shaped word (verb_noun, as NAME) in a text: each must be a tool of the registry. */
const toolNamesIn = (text: string): string[] =>
  [...text.matchAll(/\b[a-z]+(?:_[a-z]+)+\b/g)].map((m) => m[0]).filter((w) => NAME.test(w));
const TOOL_NAMES = new Set(allTools.map((t) => t.name));
// What a model is shown per tool stays short: the fixed order (what, when and when not, returns, safety) fits.
const DESCRIPTION_MAX = 260;

describe('tool definitions (allTools)', () => {
  it('has unique snake_case verb_noun names', () => {
    const names = allTools.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(NAME);
  });

  it('descriptions and server instructions name only tools that exist', () => {
    for (const t of allTools)
      for (const word of toolNamesIn(t.description)) expect(TOOL_NAMES, `${t.name}: ${word}`).toContain(word);
    for (const word of toolNamesIn(INSTRUCTIONS)) expect(TOOL_NAMES, `instructions: ${word}`).toContain(word);
  });

  for (const tool of allTools) {
    it(`${tool.name}: description in the house order (sibling, returns, pagination, confirmation)`, () => {
      const d = tool.description;
      // When to use it and when not: at least one sibling tool is named.
      expect(
        toolNamesIn(d).filter((w) => w !== tool.name),
        'names a sibling tool',
      ).not.toEqual([]);
      expect(d, 'says what it returns').toMatch(/\bReturns\b/);
      if ('next_cursor' in tool.output.shape) expect(d, 'says it is paginated').toMatch(/next_cursor/);
      if (tool.confirm) {
        // The person is asked, and protected environments need their dialog.
        expect(d).toMatch(/Asks the person first \(protected environments: dialog only\)\.$/);
      } else if (!tool.annotations.readOnlyHint) {
        expect(d, 'a write without confirmation says so').toMatch(/No confirmation/);
      } else {
        expect(d).not.toMatch(/confirm|Asks the person/i);
      }
    });
  }

  for (const tool of allTools) {
    it(`${tool.name}: title, description, annotations and schemas`, () => {
      expect(tool.title.trim().length, 'title').toBeGreaterThan(0);
      expect(tool.description.length, 'description length').toBeLessThanOrEqual(DESCRIPTION_MAX);
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
      expect(t.description?.length ?? 0, `${t.name} description`).toBeLessThanOrEqual(DESCRIPTION_MAX);
      expect(t.description ?? '', `${t.name} description`).toMatch(/\.$/);
      for (const hint of HINTS) expect(typeof t.annotations?.[hint], `${t.name} ${hint}`).toBe('boolean');
      if (t.annotations?.['readOnlyHint'] === true)
        expect(t.annotations['destructiveHint'], `${t.name} destructiveHint`).toBe(false);
      expect(t.inputSchema['type'], `${t.name} inputSchema`).toBe('object');
      expect(t.outputSchema?.['type'], `${t.name} outputSchema`).toBe('object');
      for (const key of ['anyOf', 'oneOf', 'allOf'])
        expect(t.inputSchema, `${t.name} ${key}`).not.toHaveProperty(key);
      // Every argument says what it is (format, default, what omitting it does), not just "Page size".
      const props = (t.inputSchema['properties'] ?? {}) as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(props)) {
        expect(schema.description?.length ?? 0, `${t.name}.${field} described`).toBeGreaterThan(8);
        expect(schema.description, `${t.name}.${field}`).not.toMatch(/^Page size$/i);
      }
    }
  });

  it('refuses an argument the schema does not list (said once in the instructions, not per tool)', async () => {
    expect(INSTRUCTIONS).toMatch(/Arguments a tool's schema does not list are refused/);
    const r = await h.call('get_application', { app: 'shop', env: 'live' }).then(
      (x) => (x.isError ? textOf(x) : 'ran'),
      (e: unknown) => String(e),
    );
    expect(r).not.toBe('ran');
    expect(r).toMatch(/env/);
  });

  it('keeps what a model is shown (name, description, input schema) within 16 KB, all tools together', () => {
    // Models are shown each tool's name, description and input schema; output schemas go to the client, which
    // validates structuredContent against them, so they are advertised whole and do not count here.
    const rows = tools.map((t) => ({
      name: t.name,
      bytes: Buffer.byteLength(
        JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema }),
        'utf8',
      ),
    }));
    const total = rows.reduce((sum, r) => sum + r.bytes, 0);
    console.log(
      `model-visible tool definitions (${era}): ${tools.length} tools, ${total} bytes\n${rows
        .map((r) => `  ${r.name.padEnd(30)} ${String(r.bytes).padStart(5)}`)
        .join('\n')}`,
    );
    expect(total).toBeLessThanOrEqual(16_384);
  });

  it('spells nullable values as anyOf branches, never as a type array (portable to single-type dialects)', () => {
    const arrays: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) for (const [i, v] of node.entries()) walk(v, `${at}[${i}]`);
      else if (node && typeof node === 'object')
        for (const [k, v] of Object.entries(node)) {
          if (k === 'type' && Array.isArray(v)) arrays.push(at);
          walk(v, `${at}.${k}`);
        }
    };
    for (const t of tools) walk({ input: t.inputSchema, output: t.outputSchema }, t.name);
    expect(arrays).toEqual([]);
  });

  it('advertises typed output schemas: every property has a type or a composition, nested objects too', () => {
    const untyped: string[] = [];
    const walk = (schema: unknown, at: string): void => {
      if (!schema || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      const typed = ['type', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', '$ref'].some((k) => k in s);
      if (!typed) untyped.push(at);
      for (const [k, v] of Object.entries((s['properties'] ?? {}) as Record<string, unknown>))
        walk(v, `${at}.${k}`);
      if (s['items']) walk(s['items'], `${at}[]`);
      for (const key of ['anyOf', 'oneOf', 'allOf'])
        for (const [i, v] of ((s[key] ?? []) as unknown[]).entries()) walk(v, `${at}|${i}`);
    };
    for (const t of tools) {
      walk(t.outputSchema, t.name);
      const props = Object.keys((t.outputSchema?.['properties'] ?? {}) as object);
      expect(props.length, `${t.name} output properties`).toBeGreaterThan(0);
      expect(t.outputSchema?.['required'], `${t.name} output required`).toBeDefined();
    }
    expect(untyped).toEqual([]);
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
    // Keys sorted: JSON Schema key order carries no meaning and differs between the SDK's conversion paths.
    await expect(`${JSON.stringify(sortKeys(snapshot), null, 2)}\n`).toMatchFileSnapshot(
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

describe('structuredContent validates against the advertised output schemas', () => {
  let h: Harness;
  let advertised: Map<string, Record<string, unknown>>;
  beforeAll(async () => {
    h = await startHarness();
    const listed = (await h.mcp.listTools()).tools as unknown as ListedTool[];
    advertised = new Map(listed.map((t) => [t.name, t.outputSchema ?? {}]));
  });
  afterAll(async () => {
    await h.close();
  });

  /** Validates with the JSON Schema a client sees (not the zod schema), as a client would. */
  function validateAdvertised(name: string, data: unknown): string[] {
    const schema = advertised.get(name);
    if (!schema) return [`${name} is not listed`];
    const result = fromJsonSchema(schema)['~standard'].validate(data);
    if (result instanceof Promise) throw new Error('expected a synchronous validator');
    return result.issues ? result.issues.map((i) => i.message) : [];
  }

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
      expect(validateAdvertised(tool.name, r.structuredContent)).toEqual([]);
      expect(textOf(r).length).toBeGreaterThan(0);
    });
  }

  it('rejects a structuredContent that breaks the advertised schema (the check can fail)', () => {
    expect(validateAdvertised('get_environment', { unexpected: true }).length).toBeGreaterThan(0);
  });
});

describe('write tools: preview and result validate against the advertised output schemas', () => {
  const TIMINGS = { deployMs: 150, backupMs: 100, restoreMs: 100, downloadMs: 100 };
  const WRITE_ARGS: Record<string, (h: Harness) => Promise<Record<string, unknown>>> = {
    deploy_environment: async () => ({ app: 'blog', environment: 'test' }),
    stop_environment: async () => ({ app: 'marketing-site', environment: 'test' }),
    create_backup: async () => ({ app: 'blog', environment: 'test', services: ['database'] }),
    restore_backup: async (h) => ({ backup: await successfulBackup(h), services: ['database'] }),
    create_backup_download: async (h) => ({ backup: await successfulBackup(h), service: 'database' }),
    set_environment_variable: async () => ({
      app: 'blog',
      environment: 'test',
      name: 'SCHEMA_CHECK',
      value: 'x',
    }),
    delete_environment_variable: async () => ({ app: 'blog', environment: 'test', name: 'DEBUG' }),
  };

  async function successfulBackup(h: Harness): Promise<string> {
    const env = (await h.divio.resolveEnvironment(await h.divio.resolveApplication('blog'), 'test')).uuid;
    const s = h.sandbox.state;
    const b = [...s.backups.values()].find(
      (x) => x.environment === env && s.backupState(x) === 'COMPLETED' && x.outcome === 'SUCCESS',
    );
    if (!b) throw new Error('the seed has no successful blog/test backup');
    return b.uuid;
  }

  it('covers every write tool', () => {
    for (const t of allTools.filter((x) => !x.annotations.readOnlyHint))
      expect(WRITE_ARGS, t.name).toHaveProperty(t.name);
  });

  for (const mode of ['token', 'none'] as const) {
    it(`every write tool's structuredContent (confirm mode ${mode}) validates against its advertised schema`, async () => {
      const h = await startHarness({ config: { confirmMode: mode }, sandbox: { timings: TIMINGS } });
      try {
        const listed = (await h.mcp.listTools()).tools as unknown as ListedTool[];
        for (const tool of allTools.filter((x) => !x.annotations.readOnlyHint)) {
          const args = await (WRITE_ARGS[tool.name] as (h: Harness) => Promise<Record<string, unknown>>)(h);
          const r = await h.call(tool.name, {
            ...args,
            ...('wait_seconds' in tool.input.shape ? { wait_seconds: 10 } : {}),
          });
          expect(r.isError, `${tool.name}: ${textOf(r)}`).toBeFalsy();
          const schema = listed.find((t) => t.name === tool.name)?.outputSchema ?? {};
          const result = fromJsonSchema(schema)['~standard'].validate(r.structuredContent);
          if (result instanceof Promise) throw new Error('expected a synchronous validator');
          expect(result.issues?.map((i) => i.message) ?? [], tool.name).toEqual([]);
        }
      } finally {
        await h.close();
      }
    });
  }
});
