import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The suite has two tiers. Files directly in test/ run everything in this process: the server, a real MCP
// client, the sandbox (`npm run test:fast`). test/e2e/ holds the tests that start other programs: the built
// server, Chromium, redis-server, the MCP Inspector, the conformance suite. `npm test` runs both. A test that
// starts a process belongs in test/e2e/, so the fast tier stays fast.

const TEST = fileURLToPath(new URL('./', import.meta.url));

/** What a file that starts another program imports or names. */
const STARTS_A_PROCESS: [RegExp, string][] = [
  [/from 'node:child_process'|import\('node:child_process'\)/, 'node:child_process'],
  [/@modelcontextprotocol\/client\/stdio'/, 'the SDK stdio client (it spawns the server)'],
  [/from 'playwright-core'/, 'playwright-core (Chromium)'],
  [/helpers\/redis\.js'/, 'the redis-server helper'],
];

describe('test tiers', () => {
  // This file names the patterns it looks for: it is left out of its own scan.
  const fast = readdirSync(TEST).filter((f) => f.endsWith('.test.ts') && f !== 'tiers.test.ts');
  const e2e = readdirSync(`${TEST}e2e/`).filter((f) => f.endsWith('.test.ts'));

  it('no file of the fast tier starts another program', () => {
    const found: string[] = [];
    for (const file of fast) {
      const text = readFileSync(`${TEST}${file}`, 'utf8');
      for (const [pattern, what] of STARTS_A_PROCESS) if (pattern.test(text)) found.push(`${file}: ${what}`);
    }
    expect(found).toEqual([]);
  });

  it('the end-to-end tier is where the process tests are', () => {
    const text = e2e.map((file) => readFileSync(`${TEST}e2e/${file}`, 'utf8'));
    for (const [pattern, what] of STARTS_A_PROCESS)
      expect(
        text.some((t) => pattern.test(t)),
        what,
      ).toBe(true);
  });
});
