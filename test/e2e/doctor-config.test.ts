import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';

// `divio-mcp doctor` and `divio-mcp config` as commands of the built package (their in-process tests:
// test/doctor-config.test.ts).

const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ENTRY, ...args], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

// Each test runs the built command and waits for it, so they run concurrently.
describe.concurrent('doctor and config, built command', () => {
  describe('divio-mcp doctor (the built command)', () => {
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

    it('works end to end: `doctor --sandbox` exits 0; `doctor` with no credentials exits 1', async () => {
      const ok = await cli(['doctor', '--sandbox'], { PATH: process.env['PATH'], HOME: home });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/Ready:/);
      const bad = await cli(['doctor'], {
        PATH: process.env['PATH'],
        HOME: home,
        DIVIO_API_URL: sandbox.url,
      });
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/FAIL Token/);
    });
  });

  describe('divio-mcp config <client> (the built command)', () => {
    it('works end to end with the real paths of this install, and suggests the right name on a typo', async () => {
      const ok = await cli(['config', 'cursor', '--sandbox'], { PATH: process.env['PATH'] });
      expect(ok.code, ok.stderr).toBe(0);
      const json = ok.stdout
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n');
      const parsed = JSON.parse(json);
      expect(parsed.mcpServers.divio.command).toBe(process.execPath);
      expect(parsed.mcpServers.divio.args).toEqual([ENTRY, '--sandbox']);
      const typo = await cli(['config', 'cusor'], { PATH: process.env['PATH'] });
      expect(typo.code).toBe(2);
      expect(typo.stderr).toContain("Did you mean 'cursor'?");
      const unknown = await cli(['doctr'], { PATH: process.env['PATH'] });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("Did you mean 'doctor'?");
    });
  });
});
