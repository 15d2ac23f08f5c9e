import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';

// `npm run demo`: the built server on the embedded sandbox, a real MCP client over stdio, and a short
// ops conversation, printed as a transcript. The client plays both the assistant and the person.

const out = (s = '') => process.stdout.write(`${s}\n`);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

type Result = { isError?: boolean; content: { type: string; text?: string }[] };

function textOf(r: Result, maxLines = 18): string {
  const lines = r.content
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n')
    .split('\n');
  const shown = lines.slice(0, maxLines);
  if (lines.length > maxLines) shown.push(dim(`  … ${lines.length - maxLines} more lines`));
  return shown.map((l) => `  ${l}`).join('\n');
}

async function main(): Promise<void> {
  const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const client = new Client(
    { name: 'divio-mcp-demo', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } } },
  );
  // The person answers each dialog; the rollback step shows the preview and then declines, so nothing changes.
  let answer: 'accept' | 'decline' = 'accept';
  client.setRequestHandler('elicitation/create', async (req) => {
    out(bold('\n[dialog shown to the person]'));
    out(
      req.params.message
        .split('\n')
        .map((l) => `  │ ${l}`)
        .join('\n'),
    );
    if (answer === 'decline') {
      out(bold('[the person clicks "No"]\n'));
      return { action: 'decline' };
    }
    out(bold('[the person clicks "Yes, do this"]\n'));
    return { action: 'accept', content: { confirm: true } };
  });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, '--sandbox', '--speed', '3'],
    env: { ...getDefaultEnvironment(), DIVIO_MCP_POLL_INTERVAL_MS: '400' },
    stderr: 'ignore',
  });
  await client.connect(transport);
  const tools = await client.listTools();
  out(
    bold('divio-mcp demo: a real MCP client talking to the server over stdio, against the embedded sandbox.'),
  );
  out(dim(`Connected; ${tools.tools.length} tools available.`));

  const step = async (said: string, name: string, args: Record<string, unknown>, maxLines?: number) => {
    out(`\n${bold('Person:')} ${said}`);
    out(dim(`→ ${name} ${JSON.stringify(args)}`));
    let lastMessage = '';
    const r = (await client.callTool(
      { name, arguments: args },
      {
        onprogress: (p) => {
          const msg = `${Math.round(p.progress)}% ${p.message ?? ''}`;
          if (msg !== lastMessage) out(dim(`  … progress ${msg}`));
          lastMessage = msg;
        },
      },
    )) as Result;
    out(r.isError ? bold('  [error]') : '');
    out(textOf(r, maxLines));
  };

  await step('Which Divio apps do we have?', 'list_applications', {});
  await step('Which of our apps have a problem right now?', 'get_fleet_overview', {}, 24);
  await step(
    'Why is the shop live site broken?',
    'diagnose_environment',
    { app: 'shop', environment: 'live' },
    30,
  );
  await step('Show me the latest errors from the shop live web service.', 'get_environment_logs', {
    app: 'shop',
    environment: 'live',
    service: 'web',
    search: 'Error',
    since: '15m',
    limit: 8,
  });
  await step('Back up the shop live database first.', 'create_backup', {
    app: 'shop',
    environment: 'live',
    services: ['database'],
  });
  answer = 'decline';
  await step(
    'What would rolling shop live back to the last deployment that worked do?',
    'deploy_environment',
    {
      app: 'shop',
      environment: 'live',
      from_deployment: 'previous',
    },
  );
  answer = 'accept';
  await step('Now deploy the blog test environment.', 'deploy_environment', {
    app: 'blog',
    environment: 'test',
  });
  out(`\n${dim('Done. Attach Claude Desktop or the MCP Inspector with: npx divio-mcp --sandbox')}`);
  await client.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
