import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The newest modification time of the given files, and of the given folders and everything in them (a folder's
 * time changes when a file in it is added, removed or renamed); 0 if none exists.
 */
function newest(paths: string[]): number {
  let latest = 0;
  for (const path of paths) {
    const full = join(root, path);
    if (!existsSync(full)) continue;
    const stat = statSync(full);
    latest = Math.max(latest, stat.mtimeMs);
    if (stat.isDirectory())
      for (const entry of readdirSync(full, { recursive: true, withFileTypes: true }))
        latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** True when every one of `outputs` exists and is newer than every one of `inputs`. */
function fresh(outputs: string[], inputs: string[]): boolean {
  const built = outputs.map((o) => join(root, o));
  if (!built.every((o) => existsSync(o))) return false;
  return Math.min(...built.map((o) => statSync(o).mtimeMs)) > newest(inputs);
}

function run(script: string): void {
  execFileSync(process.execPath, [join(root, script)], { cwd: root, stdio: 'inherit' });
}

// The end-to-end tests spawn dist/index.js, and the server under test reads the MCP Apps views (dist/ui/), so both
// are built before the suites run, once, and only when a source file is newer than the build: a plain `npm test`
// on a fresh clone works without a separate build step, and a second run does not build again.
// DIVIO_MCP_SKIP_BUILD=1 uses whatever build is there.
export default function setup(): void {
  if (!existsSync(join(root, 'src/index.ts'))) return;
  const skip = process.env['DIVIO_MCP_SKIP_BUILD'] === '1';
  // What the builds read besides the sources: the packages (npm install and npm ci both write
  // node_modules/.package-lock.json) and the TypeScript settings esbuild follows.
  const dependencies = [
    'package.json',
    'package-lock.json',
    'node_modules/.package-lock.json',
    'tsconfig.json',
  ];
  // Every page (VIEW_PAGES in scripts/build-views.mjs, built together): a views build that failed part of the
  // way leaves some pages new and the others old.
  const views = ['environment', 'deploy', 'fleet'].map((name) => `dist/ui/${name}.html`);
  if (
    !(skip && existsSync(join(root, 'dist/ui/deploy.html'))) &&
    !fresh(views, ['ui', 'scripts/build-views.mjs', ...dependencies])
  )
    run('scripts/build-views.mjs');
  // The in-process tier (`npm run test:fast`, which leaves out test/e2e/) starts no built server: it needs the
  // views only.
  const argv = process.argv;
  const excludesE2e = argv.some(
    (arg, i) => arg === '--exclude=test/e2e/**' || (arg === '--exclude' && argv[i + 1] === 'test/e2e/**'),
  );
  if (excludesE2e) return;
  if (skip && existsSync(join(root, 'dist/index.js'))) return;
  if (!fresh(['dist/index.js'], ['src', 'scripts/build.mjs', ...dependencies])) run('scripts/build.mjs');
}
