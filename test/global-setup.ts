import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// End-to-end tests spawn dist/index.js. Build once before the suites run so a
// plain `npm test` on a fresh clone works without a separate build step.
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const entry = `${root}dist/index.js`;
  const srcIndex = `${root}src/index.ts`;
  if (!existsSync(srcIndex)) return;
  const skip = process.env.DIVIO_MCP_SKIP_BUILD === '1';
  // The MCP Apps views (dist/ui/) are read by the server under test from src/ too; esbuild builds them fast.
  if (!skip || !existsSync(`${root}dist/ui/deploy.html`)) {
    execFileSync(process.execPath, [`${root}scripts/build-views.mjs`], { cwd: root, stdio: 'inherit' });
  }
  // The in-process tier (`npm run test:fast`, which leaves out test/e2e/) starts no built server: it needs the
  // views only.
  const argv = process.argv;
  const excludesE2e = argv.some(
    (arg, i) => arg === '--exclude=test/e2e/**' || (arg === '--exclude' && argv[i + 1] === 'test/e2e/**'),
  );
  if (excludesE2e) return;
  if (skip && existsSync(entry)) return;
  if (existsSync(entry) && statSync(entry).mtimeMs > Date.now() - 5_000) return;
  execFileSync(process.execPath, [`${root}scripts/build.mjs`], {
    cwd: root,
    stdio: 'inherit',
  });
}
