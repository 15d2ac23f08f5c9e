import type { Logger } from '../mcp/log.js';

/** Plain text on stderr, for what happens before the server's log exists (usage errors). */
export const plainLog: Logger = {
  error: (msg) => void process.stderr.write(`divio-mcp: ${msg}\n`),
  warn: (msg) => void process.stderr.write(`divio-mcp: ${msg}\n`),
  info: (msg) => void process.stderr.write(`divio-mcp: ${msg}\n`),
  debug: () => undefined,
};
