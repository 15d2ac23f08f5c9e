/**
 * `divio-mcp config <client>`: the exact snippet a person pastes into their MCP client, with absolute paths (a
 * client may start the server from any working directory, so relative paths break), the flags they chose passed
 * through, and where that client keeps its configuration on each operating system.
 */

export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface SnippetInput {
  client: ClientName;
  /** Absolute path of the Node.js executable. */
  node: string;
  /** Absolute path of this server's entry point (dist/index.js). */
  entry: string;
  /** Flags to pass through, e.g. ['--sandbox', '--read-only']. */
  flags: string[];
  platform: NodeJS.Platform;
}

export interface Snippet {
  /** Where the snippet goes (a file per OS, or a command to run). */
  where: string[];
  /** The text to paste or run. */
  text: string;
  /** One more hint, e.g. how to keep the token out of the file. */
  note: string;
}

const TOKEN_NOTE =
  'Without --sandbox the server needs a Divio token: it reads the netrc entry of `divio login` on its own, or put DIVIO_API_TOKEN in "env".';

function serverEntry(input: SnippetInput, withToken: boolean): Record<string, unknown> {
  const entry: Record<string, unknown> = { command: input.node, args: [input.entry, ...input.flags] };
  if (withToken) entry['env'] = { DIVIO_API_TOKEN: 'your-token' };
  return entry;
}

/** Quotes one argument for a POSIX shell, or for cmd.exe/PowerShell on Windows. */
function shellQuote(arg: string, platform: NodeJS.Platform): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  if (platform === 'win32') return `"${arg.replace(/"/g, '\\"')}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function snippetFor(input: SnippetInput): Snippet {
  const sandbox = input.flags.includes('--sandbox');
  const p = input.platform;
  switch (input.client) {
    case 'claude-desktop':
      return {
        where: [
          p === 'win32'
            ? '%APPDATA%\\Claude\\claude_desktop_config.json'
            : p === 'darwin'
              ? '~/Library/Application Support/Claude/claude_desktop_config.json'
              : '~/.config/Claude/claude_desktop_config.json (Claude Desktop has no official Linux build)',
          'or Claude Desktop: Settings, Developer, Edit Config; restart Claude Desktop afterwards',
        ],
        text: JSON.stringify({ mcpServers: { divio: serverEntry(input, !sandbox) } }, null, 2),
        note: sandbox ? 'The sandbox needs no token.' : TOKEN_NOTE,
      };
    case 'claude-code': {
      const parts = ['claude', 'mcp', 'add', '--scope', 'user', 'divio'];
      if (!sandbox) parts.push('-e', 'DIVIO_API_TOKEN=your-token');
      parts.push('--', input.node, input.entry, ...input.flags);
      return {
        where: [
          'run this in a terminal (--scope user: every project; --scope project writes .mcp.json instead)',
        ],
        text: parts.map((a) => shellQuote(a, p)).join(' '),
        note: sandbox
          ? 'The sandbox needs no token.'
          : 'Drop `-e DIVIO_API_TOKEN=...` if you ran `divio login`: the server reads that token itself.',
      };
    }
    case 'cursor':
      return {
        where: [
          p === 'win32'
            ? '%USERPROFILE%\\.cursor\\mcp.json (every project)'
            : '~/.cursor/mcp.json (every project)',
          '.cursor/mcp.json in a project (that project only)',
        ],
        text: JSON.stringify({ mcpServers: { divio: serverEntry(input, !sandbox) } }, null, 2),
        note: sandbox ? 'The sandbox needs no token.' : TOKEN_NOTE,
      };
    case 'vscode': {
      const server: Record<string, unknown> = { type: 'stdio', ...serverEntry(input, false) };
      const config: Record<string, unknown> = { servers: { divio: server } };
      if (!sandbox) {
        config['inputs'] = [
          { id: 'divio-token', type: 'promptString', description: 'Divio API token', password: true },
        ];
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a VS Code input reference
        server['env'] = { DIVIO_API_TOKEN: '${input:divio-token}' };
      }
      return {
        where: [
          '.vscode/mcp.json in a workspace',
          'or the Command Palette: "MCP: Open User Configuration" (every workspace)',
        ],
        text: JSON.stringify(config, null, 2),
        note: sandbox
          ? 'The sandbox needs no token.'
          : 'VS Code asks for the token once and keeps it in its secret storage; it never lands in the file.',
      };
    }
    case 'windsurf':
      return {
        where: [
          p === 'win32'
            ? '%USERPROFILE%\\.codeium\\windsurf\\mcp_config.json'
            : '~/.codeium/windsurf/mcp_config.json',
        ],
        text: JSON.stringify({ mcpServers: { divio: serverEntry(input, !sandbox) } }, null, 2),
        note: sandbox ? 'The sandbox needs no token.' : TOKEN_NOTE,
      };
  }
}

export function formatSnippet(client: ClientName, snippet: Snippet): string {
  return [
    `# ${client}: ${snippet.where[0]}`,
    ...snippet.where.slice(1).map((w) => `#   ${w}`),
    snippet.text,
    `# ${snippet.note}`,
    '',
  ].join('\n');
}
