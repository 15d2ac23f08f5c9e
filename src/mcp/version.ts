import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Set by the bundler (scripts/build.mjs): bundled, this module no longer sits two levels below package.json. */
declare const DIVIO_MCP_VERSION: string | undefined;

export const VERSION = typeof DIVIO_MCP_VERSION === 'string' ? DIVIO_MCP_VERSION : readVersion();
