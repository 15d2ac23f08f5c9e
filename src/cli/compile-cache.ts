import { chmodSync, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

// Node.js 22.8 and later (module.enableCompileCache) can keep V8's compiled code of the modules a process loads in
// a cache on disk, so the next start skips most of compiling them (about an eighth of a cold start's CPU time on
// Node 22 and 24 here). Node's default place for it is the system's shared temporary directory; compiled code
// read back from a folder another account can write is code that account chose, so this server keeps it in the
// person's own cache area, in a folder made owner-only, and goes without it when that folder, its parent or the
// cache area is a link, another account's, or writable by others, or a folder above the area is writable by
// others without the sticky bit (see ensurePrivateDir). On Windows the folder is under
// %LOCALAPPDATA%, which Windows gives each account for itself; no further check is made there.
// NODE_COMPILE_CACHE (a folder the person chose) is honoured as Node honours it; NODE_DISABLE_COMPILE_CACHE=1
// turns the cache off. Node.js 20 has no such cache: there this does nothing.

type Enable = (directory?: string) => unknown;

export interface CompileCacheOptions {
  /** module.enableCompileCache, or null where Node has none. */
  enable?: Enable | null;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
  /** This account's user ID; undefined on Windows. */
  uid?: number | undefined;
  /** Node's compileCacheStatus.FAILED (tests pass one where Node has none). */
  failedStatus?: number | undefined;
}

/** The per-user cache area of the platform, or undefined when it cannot be told (no absolute home). */
export function cacheArea(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  home: string,
): string | undefined {
  // resolve() drops a trailing separator, which would make lstat follow a link at the area.
  const absolute = (path: string | undefined) => (path && isAbsolute(path) ? resolve(path) : undefined);
  if (!absolute(home)) return undefined;
  if (platform === 'win32') return absolute(env['LOCALAPPDATA']) ?? join(home, 'AppData', 'Local');
  if (platform === 'darwin') return join(home, 'Library', 'Caches');
  // The XDG Base Directory specification: a relative XDG_CACHE_HOME is invalid and ignored.
  return absolute(env['XDG_CACHE_HOME']) ?? join(home, '.cache');
}

/** This server's compile cache folder in a cache area. */
export function compileCacheDir(area: string): string {
  return join(area, 'divio-mcp', 'node-compile-cache');
}

/**
 * Says whether the cache area may hold this server's compile cache, and if so makes this server's folder and its
 * compile cache folder in it (owner-only): the area must be a real folder (not a link) of this account or the
 * system, not writable by others; the folders above it (their real paths: macOS's /var is a link) this account's
 * or the system's, and not writable by others unless sticky, as /tmp is; the two folders real folders of this
 * account, not writable by others. Nothing is made before the area and the folders above it pass; folders of
 * this account that others can read are made owner-only.
 */
export function ensurePrivateDir(area: string, uid: number | undefined): boolean {
  const dir = compileCacheDir(area);
  if (uid === undefined) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return true;
  }
  const safe = (path: string, owners: readonly number[], allowSticky: boolean, follow: boolean) => {
    const stat = follow ? statSync(path) : lstatSync(path);
    const sticky = allowSticky && (stat.mode & 0o1000) !== 0;
    return stat.isDirectory() && owners.includes(stat.uid) && ((stat.mode & 0o022) === 0 || sticky);
  };
  for (let path = realpathSync(dirname(area)); ; path = dirname(path)) {
    if (!safe(path, [uid, 0], true, true)) return false;
    if (dirname(path) === path) break;
  }
  mkdirSync(area, { recursive: true, mode: 0o700 });
  if (!safe(area, [uid, 0], false, false)) return false;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const path of [join(dir, '..'), dir]) {
    if (!safe(path, [uid], false, false)) return false;
    if ((lstatSync(path).mode & 0o077) !== 0) chmodSync(path, 0o700);
  }
  return true;
}

/** Turns the cache on where Node has it; returns the folder used, or why not (for tests and debugging). */
export function enableCompileCache(options: CompileCacheOptions = {}): string {
  const enable =
    options.enable === undefined
      ? ((module as { enableCompileCache?: Enable }).enableCompileCache ?? null)
      : options.enable;
  const env = options.env ?? process.env;
  if (!enable) return 'unsupported';
  if (env['NODE_DISABLE_COMPILE_CACHE'] === '1') return 'disabled';
  const FAILED =
    'failedStatus' in options
      ? options.failedStatus
      : (module as { constants?: { compileCacheStatus?: { FAILED?: number } } }).constants?.compileCacheStatus
          ?.FAILED;
  const failed = (result: unknown) =>
    FAILED !== undefined && (result as { status?: unknown } | undefined)?.status === FAILED;
  try {
    if (env['NODE_COMPILE_CACHE']) return failed(enable()) ? 'failed' : env['NODE_COMPILE_CACHE'];
    const area = cacheArea(env, options.platform ?? process.platform, options.home ?? homedir());
    if (!area) return 'no cache area';
    if (!ensurePrivateDir(area, 'uid' in options ? options.uid : process.getuid?.())) return 'not private';
    const dir = compileCacheDir(area);
    return failed(enable(dir)) ? 'failed' : dir;
  } catch {
    // No home folder, a read-only one, or a folder that cannot be made: only the saving is lost.
    return 'failed';
  }
}
