import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allTools } from '../src/tools/index.js';

// `npm run bundle`: builds divio-mcp.mcpb, an MCP Bundle (a zip with manifest.json, the built server and its
// production dependencies) that Claude Desktop installs with a double click. The manifest is generated here from
// package.json and the tool registry, so its tool list and version cannot drift from the code.

const root = fileURLToPath(new URL('../../', import.meta.url));
const stage = `${root}.build/bundle/`;
const output = `${root}divio-mcp.mcpb`;
const mcpb = `${root}node_modules/@anthropic-ai/mcpb/dist/cli/cli.js`;

interface Pkg {
  name: string;
  version: string;
  description: string;
  license: string;
  keywords?: string[];
  engines?: { node?: string };
}

export function manifest(pkg: Pkg): Record<string, unknown> {
  return {
    manifest_version: '0.3',
    name: pkg.name,
    display_name: 'Divio Cloud',
    version: pkg.version,
    description: pkg.description,
    long_description:
      'Operate Divio Cloud applications from Claude: environment status and logs, diagnosis, deployments, ' +
      'backups and restores, environment variables. Every destructive action is shown to you for confirmation ' +
      'before it runs. Turn on the sandbox to try it without a Divio account.',
    author: { name: 'divio-mcp contributors' },
    license: pkg.license,
    keywords: pkg.keywords ?? [],
    server: {
      type: 'node',
      entry_point: 'dist/index.js',
      // The `${...}` strings are MCPB placeholders that Claude Desktop substitutes, not template mistakes.
      mcp_config: {
        command: 'node',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an MCPB placeholder
        args: ['${__dirname}/dist/index.js'],
        env: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an MCPB placeholder
          DIVIO_API_TOKEN: '${user_config.api_token}',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an MCPB placeholder
          DIVIO_SANDBOX: '${user_config.sandbox}',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an MCPB placeholder
          DIVIO_MCP_READ_ONLY: '${user_config.read_only}',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an MCPB placeholder
          DIVIO_MCP_PROTECTED_ENVIRONMENTS: '${user_config.protected_environments}',
        },
      },
    },
    tools: allTools.map((t) => ({ name: t.name, description: t.description })),
    compatibility: {
      platforms: ['darwin', 'win32', 'linux'],
      runtimes: { node: pkg.engines?.node ?? '>=20.18.1' },
    },
    user_config: {
      api_token: {
        type: 'string',
        title: 'Divio API token',
        description:
          'From https://control.divio.com/account/access-tokens/. Leave empty if you ran `divio login` (the token is then read from ~/.netrc) or use the sandbox.',
        sensitive: true,
        required: false,
        default: '',
      },
      sandbox: {
        type: 'boolean',
        title: 'Use the sandbox',
        description:
          'Run against the embedded simulation of the Divio API: no account, nothing real is touched.',
        required: false,
        default: false,
      },
      read_only: {
        type: 'boolean',
        title: 'Read-only',
        description: 'Hide every tool that changes something (deploy, restore, backups, variables).',
        required: false,
        default: false,
      },
      protected_environments: {
        type: 'string',
        title: 'Protected environments',
        description:
          'Comma-separated environments whose writes always need your confirmation dialog (slug, app/slug or ID), on top of live and production-grade ones.',
        required: false,
        default: '',
      },
    },
  };
}

function main(): void {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Pkg;
  if (!existsSync(`${root}dist/index.js`))
    throw new Error('dist/index.js is missing: run npm run build first');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(`${root}dist`, `${stage}dist`, { recursive: true, filter: (src) => !src.endsWith('.map') });
  for (const file of ['package.json', 'package-lock.json', 'LICENSE', 'README.md'])
    cpSync(`${root}${file}`, `${stage}${file}`);
  writeFileSync(`${stage}manifest.json`, `${JSON.stringify(manifest(pkg), null, 2)}\n`);
  // Production dependencies only, exactly as locked; no install scripts run.
  execFileSync(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    {
      cwd: stage,
      stdio: 'inherit',
    },
  );
  execFileSync(process.execPath, [mcpb, 'validate', `${stage}manifest.json`], { stdio: 'inherit' });
  rmSync(output, { force: true });
  execFileSync(process.execPath, [mcpb, 'pack', stage, output], { stdio: 'inherit' });
  process.stdout.write(`bundle: ${output}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
