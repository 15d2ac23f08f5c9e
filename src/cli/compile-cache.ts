import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Node.js 22.1 and later can keep V8's compiled code of the modules a process loads in a cache on disk, so the
// next start skips most of compiling them (about an eighth of a cold start's CPU time on Node 22 and 24 here).
// Node's default place for it is the system's shared temporary directory; compiled code read back from a folder
// another account can write is code that account chose, so this server keeps it in the person's own cache
// folder, made private, and goes without it when that folder is not private. NODE_COMPILE_CACHE (a folder the
// person chose) is honoured as Node honours it, and NODE_DISABLE_COMPILE_CACHE=1 turns the cache off. Node.js
// 20 has no such cache: there this does nothing.

type Enable = (directory?: string) => unknown;

/** The cache folder of this server in the person's own cache area, per platform. */
export function compileCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  const base =
    platform === 'win32'
      ? (env['LOCALAPPDATA'] ?? join(home, 'AppData', 'Local'))
      : platform === 'darwin'
        ? join(home, 'Library', 'Caches')
        : env['XDG_CACHE_HOME']?.startsWith('/')
          ? env['XDG_CACHE_HOME']
          : join(home, '.cache');
  return join(base, 'divio-mcp', 'node-compile-cache');
}

/**
 * Makes `dir` (and its parent, this server's folder) if missing, readable and writable by the owner only, and
 * says whether both are real folders (not links) of this account that no other account can write.
 */
export function ensurePrivateDir(dir: string, uid: number | undefined): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (uid === undefined) return true; // Windows: the local application data folder is the account's own.
  for (const path of [join(dir, '..'), dir]) {
    const stat = lstatSync(path);
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) return false;
  }
  return true;
}

/** Turns the cache on where Node has it; returns the folder used, or why not (for tests and debugging). */
export function enableCompileCache(
  enable: Enable | null = (module as { enableCompileCache?: Enable }).enableCompileCache ?? null,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (!enable) return 'unsupported';
  if (env['NODE_DISABLE_COMPILE_CACHE']) return 'disabled';
  try {
    if (env['NODE_COMPILE_CACHE']) {
      enable();
      return env['NODE_COMPILE_CACHE'];
    }
    const dir = compileCacheDir(env, process.platform, homedir());
    if (!ensurePrivateDir(dir, process.getuid?.())) return 'not private';
    enable(dir);
    return dir;
  } catch {
    // No home folder, a read-only one, or a folder that cannot be made: only the saving is lost.
    return 'failed';
  }
}
