import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../client/config.js';
import { ConfigError } from '../mcp/config.js';
import type { Logger } from '../mcp/log.js';
import { HELP, parseCli } from './args.js';
import { plainLog } from './plain-log.js';
import type { ClientName } from './snippets.js';

// The command line first: `--help`, `--version`, `config` and usage errors are answered before the server, the
// MCP SDK and the HTTP client are loaded (./run.ts), which is most of a start's CPU time.
let run: typeof import('./run.js') | undefined;
const loadRun = async () => {
  run ??= await import('./run.js');
  return run;
};

async function main(): Promise<void> {
  const opts = parseCli(process.argv.slice(2), process.env);
  switch (opts.command) {
    case 'help':
      process.stdout.write(HELP);
      return;
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return;
    case 'sandbox':
      return (await loadRun()).runSandboxOnly(opts);
    case 'doctor':
      return (await loadRun()).doctor(opts);
    case 'config': {
      const client = opts.configClient as ClientName;
      const { formatSnippet, snippetFor } = await import('./snippets.js');
      const snippet = snippetFor({
        client,
        node: process.execPath,
        // The script node was started with (bundled or not, a bin symlink resolved): dist/index.js.
        entry: realpathSync(process.argv[1] ?? fileURLToPath(new URL('../index.js', import.meta.url))),
        flags: opts.passFlags,
        platform: process.platform,
      });
      process.stdout.write(formatSnippet(client, snippet));
      return;
    }
    case 'serve':
      return (await loadRun()).serve(opts);
  }
}

main().catch((error: unknown) => {
  const log: Logger = run?.currentLog() ?? plainLog;
  // HttpConfigError (./http.js, loaded lazily) and the API client's ConfigurationError (a proxy variable that is
  // not a URL) are told by their names.
  if (
    error instanceof ConfigError ||
    (error instanceof Error && (error.name === 'HttpConfigError' || error.name === 'ConfigurationError'))
  ) {
    log.error(error.message);
    process.exit(2);
  }
  if (
    error instanceof Error &&
    error.name === 'TypeError' &&
    /parseArgs|Unknown option/.test(String(error.stack))
  ) {
    log.error(`${error.message}. Run divio-mcp --help.`);
    process.exit(2);
  }
  log.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
