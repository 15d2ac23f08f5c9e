import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cacheArea,
  compileCacheDir,
  enableCompileCache,
  ensurePrivateDir,
} from '../src/cli/compile-cache.js';

// Where the server keeps Node's compile cache (Node.js 22.8+): the person's own cache area, in a folder made
// owner-only, never the shared temporary directory. The built server filling it is tested in
// test/e2e/cli.test.ts (where Node has the cache). Every test here works in a scratch folder.

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
const posix = uid !== undefined;

describe('compile cache folder', () => {
  it('is in the per-user cache area of each platform', () => {
    expect(cacheArea({}, 'linux', '/home/a')).toBe('/home/a/.cache');
    expect(cacheArea({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/a')).toBe('/x/cache');
    // A relative XDG_CACHE_HOME is invalid by the XDG specification, and ignored.
    expect(cacheArea({ XDG_CACHE_HOME: 'cache' }, 'linux', '/home/a')).toBe('/home/a/.cache');
    expect(cacheArea({ XDG_CACHE_HOME: '/x' }, 'darwin', '/Users/a')).toBe('/Users/a/Library/Caches');
    // No absolute home: no cache area (never a folder relative to wherever the server was started).
    expect(cacheArea({}, 'linux', '')).toBeUndefined();
    expect(compileCacheDir('/home/a/.cache')).toBe('/home/a/.cache/divio-mcp/node-compile-cache');
  });

  it.runIf(process.platform === 'win32')(
    'on Windows is under LOCALAPPDATA, or the home folder when it is empty',
    () => {
      expect(cacheArea({ LOCALAPPDATA: 'C:\\L' }, 'win32', 'C:\\Users\\a')).toBe('C:\\L');
      expect(cacheArea({ LOCALAPPDATA: '' }, 'win32', 'C:\\Users\\a')).toBe('C:\\Users\\a\\AppData\\Local');
    },
  );

  it.runIf(posix)('is made owner-only, and refused when another account could write it', () => {
    const area = scratch();
    const dir = compileCacheDir(area);
    const own = join(area, 'divio-mcp');
    expect(ensurePrivateDir(area, uid)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // Readable by others: made owner-only again.
    chmodSync(own, 0o755);
    expect(ensurePrivateDir(area, uid)).toBe(true);
    expect(statSync(own).mode & 0o777).toBe(0o700);
    // Writable by others, at any of the three levels: refused.
    for (const path of [dir, own, area]) {
      chmodSync(path, 0o777);
      expect(ensurePrivateDir(area, uid), path).toBe(false);
      chmodSync(path, 0o700);
    }
    expect(ensurePrivateDir(area, uid)).toBe(true);
    // Owned by another account.
    expect(ensurePrivateDir(area, (uid ?? 0) + 1)).toBe(false);
  });

  it.runIf(posix)('is refused when a folder above the area can be written by others (not sticky)', () => {
    const top = scratch();
    const open = join(top, 'open');
    mkdirSync(join(open, 'area'), { recursive: true, mode: 0o700 });
    chmodSync(open, 0o777);
    expect(ensurePrivateDir(join(open, 'area'), uid)).toBe(false);
    // Sticky, as /tmp is: others cannot rename what is not theirs.
    chmodSync(open, 0o1777);
    expect(ensurePrivateDir(join(open, 'area'), uid)).toBe(true);
  });

  it.runIf(posix)('is refused when it is a link (to a folder someone else chose)', () => {
    const area = scratch();
    const elsewhere = join(area, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    mkdirSync(join(area, 'divio-mcp'), { mode: 0o700 });
    symlinkSync(elsewhere, compileCacheDir(area));
    expect(ensurePrivateDir(area, uid)).toBe(false);
  });
});

describe('turning the cache on', () => {
  const calls: (string | undefined)[][] = [];
  const enable = (dir?: string) => void calls.push([dir]);
  afterEach(() => {
    calls.length = 0;
  });
  const home = () => scratch();

  it('uses the private folder in the cache area, made if missing', () => {
    const area = scratch();
    const used = enableCompileCache({
      enable,
      env: { XDG_CACHE_HOME: area },
      platform: 'linux',
      home: home(),
    });
    expect(used).toBe(compileCacheDir(area));
    expect(calls).toEqual([[used]]);
  });

  it('leaves the folder to Node when NODE_COMPILE_CACHE names one, and does nothing when disabled', () => {
    expect(enableCompileCache({ enable, env: { NODE_COMPILE_CACHE: '/chosen' }, home: home() })).toBe(
      '/chosen',
    );
    expect(calls).toEqual([[undefined]]);
    calls.length = 0;
    expect(enableCompileCache({ enable, env: { NODE_DISABLE_COMPILE_CACHE: '1' }, home: home() })).toBe(
      'disabled',
    );
    expect(enableCompileCache({ enable: null, env: {}, home: home() })).toBe('unsupported');
    expect(enableCompileCache({ enable, env: {}, platform: 'linux', home: '' })).toBe('no cache area');
    expect(calls).toEqual([]);
  });

  it.runIf(posix)('goes without it when the folder is not private', () => {
    const area = scratch();
    mkdirSync(compileCacheDir(area), { recursive: true, mode: 0o700 });
    chmodSync(join(area, 'divio-mcp'), 0o777);
    expect(
      enableCompileCache({ enable, env: { XDG_CACHE_HOME: area }, platform: 'linux', home: home() }),
    ).toBe('not private');
    expect(calls).toEqual([]);
  });

  it('reports a folder Node could not use as failed', () => {
    const area = scratch();
    const base = { env: { XDG_CACHE_HOME: area }, platform: 'linux' as const, home: home(), failedStatus: 2 };
    // Node answers with a status: FAILED means it could not use the folder; any other, that it did.
    expect(enableCompileCache({ ...base, enable: () => ({ status: 2, message: 'EACCES' }) })).toBe('failed');
    expect(enableCompileCache({ ...base, enable: () => ({ status: 0 }) })).toBe(compileCacheDir(area));
    expect(
      enableCompileCache({
        ...base,
        enable: () => {
          throw new Error('boom');
        },
      }),
    ).toBe('failed');
  });

  it.runIf(posix)('drops a trailing slash from the cache area, so a link there is still seen', () => {
    const top = scratch();
    const real = join(top, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(top, 'link'));
    expect(cacheArea({ XDG_CACHE_HOME: `${join(top, 'link')}/` }, 'linux', '/home/a')).toBe(
      join(top, 'link'),
    );
    expect(
      enableCompileCache({
        enable,
        env: { XDG_CACHE_HOME: `${join(top, 'link')}/` },
        platform: 'linux',
        home: home(),
      }),
    ).toBe('not private');
    expect(calls).toEqual([]);
  });
});
