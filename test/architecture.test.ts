import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout's rules, read from the TypeScript source text of src/ (see the README's architecture paragraph):
//   cli -> server -> {tools, resources, prompts} -> mcp -> domain -> {client, state} -> text
// A layer imports itself and the layers below it. Tools, resources and prompts are three views of the domain
// and never import each other. The sandbox is an island only the CLI starts. The domain (and everything below
// it) imports nothing from MCP. Tool handlers stay short: data plus a call into domain/.

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** What each layer may import besides itself (packages aside). */
const ALLOWED: Record<string, readonly string[]> = {
  text: [],
  client: ['text'],
  state: ['text'],
  domain: ['client', 'state', 'text'],
  mcp: ['domain', 'client', 'state', 'text'],
  tools: ['mcp', 'domain', 'client', 'state', 'text'],
  resources: ['mcp', 'domain', 'client', 'state', 'text'],
  prompts: ['mcp', 'domain', 'client', 'state', 'text'],
  server: ['tools', 'resources', 'prompts', 'mcp', 'domain', 'client', 'state', 'text'],
  cli: ['server', 'tools', 'resources', 'prompts', 'mcp', 'domain', 'client', 'state', 'text', 'sandbox'],
  sandbox: [],
  // src/index.ts, the published entry point: it only loads the CLI.
  entry: ['cli'],
};

/** Layers whose code must not depend on the MCP SDK: they are usable without a server. */
const NO_MCP = new Set(['text', 'client', 'state', 'domain', 'sandbox']);

/** The layer of a path relative to src/: its first directory, or the loose file's own name. */
function layerOf(rel: string): string {
  if (rel === 'server.ts') return 'server';
  if (rel === 'index.ts') return 'entry';
  const dir = rel.split('/')[0] ?? '';
  return rel.includes('/') ? dir : `loose:${rel}`;
}

interface Source {
  /** Path relative to src/, with forward slashes. */
  rel: string;
  text: string;
}

/** The text without comments (block comments, and line comments that start a line). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** Every module specifier a file names: imports, re-exports, side-effect imports, `import()` and import types. */
function specifiersOf(file: Source): string[] {
  const text = code(file.text);
  const patterns = [
    /\b(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1] ?? ''));
}

/** Resolves a relative specifier of `from` to a path relative to src/ (null when it leaves src/). */
function resolveRel(from: string, spec: string): string | null {
  const parts = from.split('/').slice(0, -1);
  for (const seg of spec.split('/')) {
    if (seg === '.' || seg === '') continue;
    if (seg === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/').replace(/\.js$/, '.ts');
}

/** Every import that breaks the rules, as "file -> target: why". */
function violations(files: readonly Source[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const from = layerOf(file.rel);
    const allowed = ALLOWED[from];
    if (!allowed) {
      found.push(`${file.rel}: loose file in src/ (only server.ts and index.ts are)`);
      continue;
    }
    for (const spec of specifiersOf(file)) {
      if (spec.startsWith('@modelcontextprotocol/') && NO_MCP.has(from)) {
        found.push(`${file.rel} -> ${spec}: ${from}/ does not depend on MCP`);
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const target = resolveRel(file.rel, spec);
      if (target === null) {
        found.push(`${file.rel} -> ${spec}: leaves src/`);
        continue;
      }
      const to = layerOf(target);
      if (to !== from && !allowed.includes(to)) {
        found.push(`${file.rel} -> ${target}: ${from}/ may not import ${to}/`);
      }
    }
  }
  return found;
}

/**
 * Line counts of the `handler` of every `defineTool({...})` in a file, by tool name. It reads the formatted source
 * (Biome formats every file): a tool's properties sit two spaces in, and `handler` runs to the next of them.
 */
function handlerLines(file: Source): { tool: string; lines: number }[] {
  const out: { tool: string; lines: number }[] = [];
  const lines = file.text.split('\n');
  let tool: string | null = null;
  let start = -1;
  const close = (i: number) => {
    if (tool !== null && start >= 0) out.push({ tool, lines: i - start });
    start = -1;
  };
  lines.forEach((line, i) => {
    if (/\bdefineTool\(\{/.test(line)) {
      close(i);
      tool = '(unnamed)';
    }
    if (tool === null) return;
    const prop = /^ {2}([A-Za-z]+)\??:/.exec(line) ?? /^ {2}\}\)/.exec(line) ?? /^\}\);?$/.exec(line);
    if (/^ {2}name: ['"]([^'"]+)['"]/.test(line))
      tool = /^ {2}name: ['"]([^'"]+)['"]/.exec(line)?.[1] ?? tool;
    if (prop || /^\}\)/.test(line)) {
      if (start >= 0) close(i);
      if (prop?.[1] === 'handler') start = i;
    }
    if (/^\}\)/.test(line)) tool = null;
  });
  return out;
}

function sources(dir = SRC, prefix = ''): Source[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) return sources(`${dir}${entry.name}/`, `${rel}/`);
    return entry.name.endsWith('.ts') ? [{ rel, text: readFileSync(`${dir}${entry.name}`, 'utf8') }] : [];
  });
}

const HANDLER_MAX_LINES = 10;

/**
 * Handlers still over the limit, each with the reason; the test fails when one of them is thinned and still
 * listed, so the list only shrinks.
 */
const OVER_LIMIT: Record<string, string> = {};

describe('architecture', () => {
  const all = sources();

  it('every import in src/ follows the dependency rule', () => {
    expect(all.length).toBeGreaterThan(50);
    expect(violations(all)).toEqual([]);
  });

  it('catches an import against the rule (self-test)', () => {
    const planted: Source[] = [
      { rel: 'domain/x.ts', text: "import { defineTool } from '../mcp/registry.js';" },
      { rel: 'domain/y.ts', text: "import type { McpServer } from '@modelcontextprotocol/server';" },
      { rel: 'resources/z.ts', text: "export { appsTools } from '../tools/apps.js';" },
      { rel: 'prompts/w.ts', text: "const r = await import('../resources/index.js');" },
      { rel: 'tools/v.ts', text: "type S = typeof import('../sandbox/index.js');" },
      { rel: 'loose.ts', text: '' },
      { rel: 'tools/ok.ts', text: "import { x } from '../domain/targets.js';\nimport * as z from 'zod';" },
    ];
    expect(violations(planted)).toEqual([
      'domain/x.ts -> mcp/registry.ts: domain/ may not import mcp/',
      'domain/y.ts -> @modelcontextprotocol/server: domain/ does not depend on MCP',
      'resources/z.ts -> tools/apps.ts: resources/ may not import tools/',
      'prompts/w.ts -> resources/index.ts: prompts/ may not import resources/',
      'tools/v.ts -> sandbox/index.ts: tools/ may not import sandbox/',
      'loose.ts: loose file in src/ (only server.ts and index.ts are)',
    ]);
  });

  it(`every tool handler is at most ${HANDLER_MAX_LINES} lines: data plus a call into domain/`, () => {
    const handlers = all.filter((f) => f.rel.startsWith('tools/')).flatMap(handlerLines);
    expect(handlers.length).toBeGreaterThanOrEqual(20);
    const long = handlers.filter((h) => h.lines > HANDLER_MAX_LINES).map((h) => h.tool);
    expect(long.filter((t) => !(t in OVER_LIMIT))).toEqual([]);
    expect(Object.keys(OVER_LIMIT).filter((t) => !long.includes(t))).toEqual([]);
  });

  it('measures a handler by its source lines (self-test)', () => {
    const text = [
      'const a = defineTool({',
      "  name: 'short',",
      '  handler: (args, ctx) => op(ctx, args),',
      '  render: (out) => String(out),',
      '});',
      'const b = defineTool({',
      "  name: 'long',",
      '  handler: async (args, ctx) => {',
      ...Array.from({ length: 10 }, (_, i) => `    const v${i} = ${i};`),
      '    return args;',
      '  },',
      '});',
    ].join('\n');
    expect(handlerLines({ rel: 'tools/t.ts', text })).toEqual([
      { tool: 'short', lines: 1 },
      { tool: 'long', lines: 13 },
    ]);
  });
});
