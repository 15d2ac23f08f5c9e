import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HELP } from '../src/cli.js';
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
