import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The newest modification time of the given files and of every file under the given folders (0 if none). */
function newest(paths: string[]): number {
  let latest = 0;
  for (const path of paths) {
    const full = join(root, path);
    if (!existsSync(full)) continue;
    const stat = statSync(full);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(full, { recursive: true, withFileTypes: true }))
        if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    } else latest = Math.max(latest, stat.mtimeMs);
  }
  return latest;
}

/** True when `output` exists and is newer than every one of its inputs. */
function fresh(output: string, inputs: string[]): boolean {
  const full = join(root, output);
  return existsSync(full) && statSync(full).mtimeMs > newest(inputs);
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
  const dependencies = ['package.json', 'package-lock.json'];
  if (
    !(skip && existsSync(join(root, 'dist/ui/deploy.html'))) &&
    !fresh('dist/ui/deploy.html', ['ui', 'scripts/build-views.mjs', ...dependencies])
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
  if (!fresh('dist/index.js', ['src', 'scripts/build.mjs', ...dependencies])) run('scripts/build.mjs');
}
