// Starts an installed divio-mcp over stdio (any command line), performs a 2025-era handshake and a tools/list,
// and exits 0 when tools came back. Used by the package and bundle checks: `node scripts/stdio-smoke.mjs CMD ARGS`.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/stdio-smoke.mjs COMMAND [ARGS...]');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const send = (message) => child.stdin.write(`${JSON.stringify(message)}\n`);
const timer = setTimeout(() => {
  console.error('stdio-smoke: no tools/list answer within 60 s');
  child.kill();
  process.exit(1);
}, 60_000);
child.on('exit', (code) => {
  if (code !== 0 && code !== null) {
    console.error(`stdio-smoke: the server exited with code ${code} before answering`);
    process.exit(1);
  }
});
let buffer = '';
child.stdout.on('data', (chunk) => {
  buffer += chunk;
  for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
    const message = JSON.parse(buffer.slice(0, i));
    buffer = buffer.slice(i + 1);
    if (message.id === 1) {
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    } else if (message.id === 2) {
      clearTimeout(timer);
      child.stdin.end();
      const count = message.result?.tools?.length ?? 0;
      if (count < 1) {
        console.error('stdio-smoke: tools/list answered without tools');
        process.exit(1);
      }
      console.log(`stdio-smoke: ${count} tools over stdio`);
    }
  }
});
send({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'stdio-smoke', version: '0' },
  },
});
