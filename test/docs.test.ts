import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderToolsDoc } from '../scripts/tools-doc.js';
import { allTools } from '../src/tools/index.js';

// docs/tools.md is generated from the registry (npm run docs). Regenerate with: npm run docs
// (or UPDATE_DOCS=1 npx vitest run test/docs.test.ts).
const DOC = fileURLToPath(new URL('../docs/tools.md', import.meta.url));

describe('docs/tools.md', () => {
  it('is what the registry advertises today', () => {
    const expected = renderToolsDoc();
    if (process.env['UPDATE_DOCS'] === '1') writeFileSync(DOC, expected);
    expect(existsSync(DOC), 'docs/tools.md is missing: run npm run docs').toBe(true);
    expect(readFileSync(DOC, 'utf8'), 'docs/tools.md drifted from the registry: run npm run docs').toBe(
      expected,
    );
  });

  it('has a section with arguments and schemas for every tool', () => {
    const text = renderToolsDoc();
    for (const t of allTools) {
      expect(text).toContain(`## ${t.name}\n`);
      expect(text).toContain(t.description);
    }
    expect(text.match(/"outputSchema"/g)?.length).toBe(allTools.length);
  });
});
