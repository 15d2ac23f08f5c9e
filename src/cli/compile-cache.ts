import { chmodSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

// Node.js 22.8 and later (module.enableCompileCache) can keep V8's compiled code of the modules a process loads in
// a cache on disk, so the next start skips most of compiling them (about an eighth of a cold start's CPU time on
// Node 22 and 24 here). Node's default place for it is the system's shared temporary directory; compiled code
// read back from a folder another account can write is code that account chose, so this server keeps it in the
// person's own cache area, in a folder made owner-only, and goes without it when that folder, its parent or the
// cache area is a link, another account's, or writable by others. On Windows the folder is under
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
}

/** The per-user cache area of the platform, or undefined when it cannot be told (no absolute home). */
export function cacheArea(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  home: string,
): string | undefined {
  const absolute = (path: string | undefined) => (path && isAbsolute(path) ? path : undefined);
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
 * Checks the cache area, makes this server's folder and its compile cache folder in it (owner-only), and says
 * whether all three are real folders (not links) that no other account can write: the area this account's or
 * the system's, the two folders this account's. Folders of this account readable by others are made owner-only.
 * The folders above the area may be links (macOS's /var, say) but must not let another account rename what is
 * in them: this account's or the system's, and not writable by others unless sticky (as /tmp is), as OpenSSH
 * checks the folders above a key.
 */
export function ensurePrivateDir(area: string, uid: number | undefined): boolean {
  const dir = compileCacheDir(area);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (uid === undefined) return true;
  for (let path = dirname(area); ; path = dirname(path)) {
    const stat = statSync(path);
    const sticky = (stat.mode & 0o1000) !== 0;
    if (![uid, 0].includes(stat.uid) || ((stat.mode & 0o022) !== 0 && !sticky)) return false;
    if (dirname(path) === path) break;
  }
  const checks: [string, readonly number[]][] = [
    [area, [uid, 0]],
    [join(dir, '..'), [uid]],
    [dir, [uid]],
  ];
  for (const [path, owners] of checks) {
    const stat = lstatSync(path);
    if (!stat.isDirectory() || !owners.includes(stat.uid) || (stat.mode & 0o022) !== 0) return false;
  }
  for (const path of [join(dir, '..'), dir]) if ((lstatSync(path).mode & 0o077) !== 0) chmodSync(path, 0o700);
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
  const failed = (result: unknown) => {
    const FAILED = (module as { constants?: { compileCacheStatus?: { FAILED?: number } } }).constants
      ?.compileCacheStatus?.FAILED;
    return FAILED !== undefined && (result as { status?: unknown } | undefined)?.status === FAILED;
  };
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
