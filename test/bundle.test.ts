import { readFileSync } from 'node:fs';
import { v0_3 } from '@anthropic-ai/mcpb';
import { describe, expect, it } from 'vitest';
import { manifest } from '../scripts/bundle.js';
import { parseCli } from '../src/cli/args.js';
import { clientOptionsFromEnv } from '../src/client/index.js';
import { allTools } from '../src/tools/index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

describe('MCP Bundle manifest', () => {
  const m = manifest(pkg) as {
    version: string;
    tools: { name: string; description: string }[];
    server: { mcp_config: { env: Record<string, string> } };
    user_config: Record<string, { sensitive?: boolean; default?: unknown }>;
  };

  it('validates against the MCPB 0.3 manifest schema', () => {
    const parsed = v0_3.McpbManifestSchema.safeParse(m);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('carries the package version and exactly the registry tools', () => {
    expect(m.version).toBe(pkg.version);
    expect(m.tools.map((t) => t.name)).toEqual(allTools.map((t) => t.name));
  });

  it('asks for the token as a sensitive setting and maps every setting to a variable the server reads', () => {
    expect(m.user_config['api_token']?.sensitive).toBe(true);
    const env = m.server.mcp_config.env;
    expect(Object.keys(env).sort()).toEqual([
      'DIVIO_API_TOKEN',
      'DIVIO_MCP_PROTECTED_ENVIRONMENTS',
      'DIVIO_MCP_READ_ONLY',
      'DIVIO_SANDBOX',
    ]);
    for (const value of Object.values(env)) expect(value).toMatch(/^\$\{user_config\.[a-z_]+\}$/);
  });

  it('the values Claude Desktop substitutes for the settings mean what the settings say', () => {
    const defaults = parseCli([], {
      DIVIO_API_TOKEN: '',
      DIVIO_SANDBOX: 'false',
      DIVIO_MCP_READ_ONLY: 'false',
      DIVIO_MCP_PROTECTED_ENVIRONMENTS: '',
    });
    expect(defaults.sandbox).toBe(false);
    expect(defaults.config.readOnly).toBe(false);
    expect(defaults.config.protectedEnvironments).toEqual([]);
    const on = parseCli([], {
      DIVIO_SANDBOX: 'true',
      DIVIO_MCP_READ_ONLY: 'true',
      DIVIO_MCP_PROTECTED_ENVIRONMENTS: 'shop/live, test',
    });
    expect(on.sandbox).toBe(true);
    expect(on.config.readOnly).toBe(true);
    expect(on.config.protectedEnvironments).toEqual(['shop/live', 'test']);
    // An empty token setting falls through to the netrc entry of `divio login`.
    const noNetrc = {
      readFile: () => {
        throw Object.assign(new Error('none'), { code: 'ENOENT' });
      },
    };
    expect(clientOptionsFromEnv({ DIVIO_API_TOKEN: '' }, noNetrc).credentials.source).toBe('none');
  });
});
