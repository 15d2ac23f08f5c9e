import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { schemasOf } from '../src/mcp/registry.js';
import toolSchemas from '../src/mcp/tool-schemas.json' with { type: 'json' };
import { allTools } from '../src/tools/index.js';

// src/mcp/tool-schemas.json holds every tool's JSON Schemas as tools/list advertises them, converted ahead of
// time so a starting server does not convert them again (see schemasOf). This test converts them now and fails
// when the file differs. Regenerate with: UPDATE_TOOL_SCHEMAS=1 npx vitest run test/tool-schemas.test.ts

const FILE = fileURLToPath(new URL('../src/mcp/tool-schemas.json', import.meta.url));

function convertedNow(): Record<string, { input: unknown; output: unknown }> {
  const out: Record<string, { input: unknown; output: unknown }> = {};
  for (const tool of allTools) {
    const { input, output } = schemasOf(tool, {});
    out[tool.name] = {
      input: input['~standard'].jsonSchema.input({ target: 'draft-2020-12' }),
      output: output['~standard'].jsonSchema.output({ target: 'draft-2020-12' }),
    };
  }
  return out;
}

describe('tool-schemas.json', () => {
  it('is the conversion of every tool schema made now', () => {
    const now = `${JSON.stringify(convertedNow(), null, 1)}\n`;
    if (process.env['UPDATE_TOOL_SCHEMAS'] === '1') writeFileSync(FILE, now);
    expect(
      readFileSync(FILE, 'utf8'),
      'regenerate: UPDATE_TOOL_SCHEMAS=1 npx vitest run test/tool-schemas.test.ts',
    ).toBe(now);
  });

  it('is what a registered tool advertises, taken from the file (not converted again)', () => {
    for (const tool of allTools) {
      const { input, output } = schemasOf(tool);
      const ahead = (toolSchemas as Record<string, { input: unknown; output: unknown }>)[tool.name];
      // The very objects of the imported file: a conversion would have made new ones.
      expect(input['~standard'].jsonSchema.input({ target: 'draft-2020-12' }), tool.name).toBe(ahead?.input);
      expect(output['~standard'].jsonSchema.output({ target: 'draft-2020-12' }), tool.name).toBe(
        ahead?.output,
      );
    }
  });
});
