import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HELP } from '../src/cli/args.js';
import { OPTIONS, readmeTable } from '../src/cli/options.js';
import { allTools } from '../src/tools/index.js';

// The README's tool table is generated from the registry; this test fails when they drift.
// Regenerate with: UPDATE_README=1 npx vitest run test/readme.test.ts

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const START = '<!-- tools:start -->';
const END = '<!-- tools:end -->';

function toolTable(): string {
  const rows = allTools.map((t) => {
    const kind = t.annotations.readOnlyHint
      ? 'read'
      : t.confirm
        ? t.annotations.destructiveHint
          ? 'write, destructive, confirmed'
          : 'write, confirmed'
        : 'write';
    return `| \`${t.name}\` | ${t.toolset} | ${kind} | ${t.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| tool | toolset | kind | what it does |', '|---|---|---|---|', ...rows].join('\n');
}

function replaceBetween(text: string, start: string, end: string, body: string): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  return `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`;
}

describe('README configuration table', () => {
  const CSTART = '<!-- config:start -->';
  const CEND = '<!-- config:end -->';

  it('is the options table --help is generated from', () => {
    const text = readFileSync(README, 'utf8');
    const start = text.indexOf(CSTART);
    expect(start, 'README lacks the config:start marker').toBeGreaterThan(-1);
    const current = text.slice(start + CSTART.length, text.indexOf(CEND)).trim();
    const expected = readmeTable();
    if (process.env['UPDATE_README'] === '1' && current !== expected) {
      writeFileSync(README, replaceBetween(text, CSTART, CEND, expected));
      return;
    }
    expect(current).toBe(expected);
  });

  it('--help shows every row of the table', () => {
    for (const row of OPTIONS) {
      if (row.flag) expect(HELP).toContain(`--${row.flag}`);
      for (const name of row.env ?? []) expect(HELP).toContain(name);
    }
  });

  it('lists every environment variable the source code reads', () => {
    const documented = new Set(OPTIONS.flatMap((r) => r.env ?? []));
    const root = fileURLToPath(new URL('../src/', import.meta.url));
    const read = new Set<string>();
    for (const file of readdirSync(root, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts') || file.startsWith('sandbox')) continue;
      const source = readFileSync(`${root}${file}`, 'utf8');
      for (const m of source.matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]+)/g)) read.add(m[1] as string);
      for (const m of source.matchAll(/'(DIVIO_[A-Z0-9_]+)'/g)) read.add(m[1] as string);
    }
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });
});

describe('README', () => {
  it('tool table matches the registry', () => {
    const text = readFileSync(README, 'utf8');
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    expect(start, 'README lacks the tools:start marker').toBeGreaterThan(-1);
    const current = text.slice(start + START.length, end).trim();
    const expected = toolTable();
    if (process.env['UPDATE_README'] === '1' && current !== expected) {
      writeFileSync(README, `${text.slice(0, start + START.length)}\n${expected}\n${text.slice(end)}`);
      return;
    }
    expect(current).toBe(expected);
  });

  it('documents every CLI flag and environment variable the server reads', () => {
    const text = readFileSync(README, 'utf8');
    const flags = [...HELP.matchAll(/--[a-z-]+/g)].map((m) => m[0]);
    const vars = [...HELP.matchAll(/\b(DIVIO_[A-Z_]+)\b/g)].map((m) => m[1] as string);
    const extra = [
      'DIVIO_MCP_POLL_INTERVAL_MS',
      'DIVIO_MCP_WAIT_SECONDS',
      'DIVIO_MCP_CONFIRM_TTL_SECONDS',
      'DIVIO_MCP_ALLOWED_HOSTS',
      'DIVIO_SANDBOX_SPEED',
    ];
    for (const name of new Set([...flags, ...vars, ...extra])) {
      expect(text, `README does not mention ${name}`).toContain(name);
    }
  });
});

describe('README resources and prompts', () => {
  it('names every resource template and prompt the server registers', async () => {
    const { startHarness } = await import('./helpers/harness.js');
    const h = await startHarness();
    try {
      const text = readFileSync(README, 'utf8');
      const templates = await h.mcp.listResourceTemplates();
      for (const t of templates.resourceTemplates) expect(text).toContain(`\`${t.uriTemplate}\``);
      const prompts = await h.mcp.listPrompts();
      for (const p of prompts.prompts) expect(text).toContain(`\`${p.name}\``);
      expect(text).toContain('`divio://applications`');
    } finally {
      await h.close();
    }
  });
});
