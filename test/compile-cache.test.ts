import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileCacheDir, enableCompileCache, ensurePrivateDir } from '../src/cli/compile-cache.js';

// Where the server keeps Node's compile cache (Node.js 22.1+): the person's own cache folder, private, never
// the shared temporary directory. The built server filling it is tested in test/e2e/cli.test.ts (on Node 22+).

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'divio-mcp-cc-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const uid = process.getuid?.();

describe('compile cache folder', () => {
  it('is in the per-user cache area of each platform', () => {
    expect(compileCacheDir({}, 'linux', '/home/a')).toBe('/home/a/.cache/divio-mcp/node-compile-cache');
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/a')).toBe(
      '/x/cache/divio-mcp/node-compile-cache',
    );
    // A relative XDG_CACHE_HOME is invalid by the XDG specification and ignored.
    expect(compileCacheDir({ XDG_CACHE_HOME: 'cache' }, 'linux', '/home/a')).toBe(
      '/home/a/.cache/divio-mcp/node-compile-cache',
    );
    expect(compileCacheDir({}, 'darwin', '/Users/a')).toBe(
      '/Users/a/Library/Caches/divio-mcp/node-compile-cache',
    );
    expect(
      compileCacheDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32', 'C:\\Users\\a'),
    ).toContain('divio-mcp');
  });

  it.runIf(uid !== undefined)('is made private, and refused when another account could write it', () => {
    const base = scratch();
    const dir = join(base, 'divio-mcp', 'node-compile-cache');
    expect(ensurePrivateDir(dir, uid)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o777);
    expect(ensurePrivateDir(dir, uid)).toBe(false);
    chmodSync(dir, 0o700);
    chmodSync(join(base, 'divio-mcp'), 0o775);
    expect(ensurePrivateDir(dir, uid)).toBe(false);
    chmodSync(join(base, 'divio-mcp'), 0o700);
    expect(ensurePrivateDir(dir, uid)).toBe(true);
    // Owned by someone else.
    expect(ensurePrivateDir(dir, (uid ?? 0) + 1)).toBe(false);
  });

  it.runIf(uid !== undefined)('is refused when it is a link (to a folder someone else chose)', () => {
    const base = scratch();
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    mkdirSync(join(base, 'divio-mcp'), { mode: 0o700 });
    symlinkSync(elsewhere, join(base, 'divio-mcp', 'node-compile-cache'));
    expect(ensurePrivateDir(join(base, 'divio-mcp', 'node-compile-cache'), uid)).toBe(false);
  });
});

describe('turning the cache on', () => {
  const calls: (string | undefined)[][] = [];
  const enable = (dir?: string) => void calls.push([dir]);
  afterEach(() => {
    calls.length = 0;
  });

  it('uses the private folder, made if missing', () => {
    const base = scratch();
    const used = enableCompileCache(enable, { XDG_CACHE_HOME: base });
    if (process.platform === 'linux') expect(used).toBe(join(base, 'divio-mcp', 'node-compile-cache'));
    expect(calls).toEqual([[used]]);
  });

  it('leaves the folder to Node when NODE_COMPILE_CACHE names one, and does nothing when disabled', () => {
    expect(enableCompileCache(enable, { NODE_COMPILE_CACHE: '/chosen' })).toBe('/chosen');
    expect(calls).toEqual([[undefined]]);
    calls.length = 0;
    expect(enableCompileCache(enable, { NODE_DISABLE_COMPILE_CACHE: '1' })).toBe('disabled');
    expect(enableCompileCache(null, {})).toBe('unsupported');
    expect(calls).toEqual([]);
  });

  it.runIf(process.platform === 'linux' && uid !== undefined)(
    'goes without it when the folder is not private',
    () => {
      const base = scratch();
      mkdirSync(join(base, 'divio-mcp', 'node-compile-cache'), { recursive: true, mode: 0o700 });
      chmodSync(join(base, 'divio-mcp'), 0o777);
      expect(enableCompileCache(enable, { XDG_CACHE_HOME: base })).toBe('not private');
      expect(calls).toEqual([]);
    },
  );
});
