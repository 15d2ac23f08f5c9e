#!/usr/bin/env bash
# Packs the project as npm would publish it, installs the tarball into an empty folder and checks that the
# installed command starts: --version, --help, and a stdio tools/list against the embedded sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

npm pack --silent --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/divio-mcp-*.tgz)"
if tar -tzf "$tarball" | grep -E '\.map$|scripts/|(bench|demo)\.js$|^package/src/'; then
  echo "check-package: the tarball ships files that do not run (listed above)" >&2
  exit 1
fi

mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --prefer-offline --silent "$tarball"
bin="$work/app/node_modules/.bin/divio-mcp"

want="$(node -p "require('$root/package.json').version")"
got="$("$bin" --version)"
[ "$got" = "$want" ] || { echo "check-package: --version printed '$got', expected '$want'" >&2; exit 1; }
"$bin" --help | grep -q -- '--sandbox' || { echo "check-package: --help does not describe --sandbox" >&2; exit 1; }

# A 2025-era handshake over stdio, then tools/list; stdin is closed once the answer is in (the server then exits).
node - "$bin" <<'JS'
const { spawn } = require('node:child_process');
const child = spawn(process.argv[2], ['--sandbox'], { stdio: ['pipe', 'pipe', 'inherit'] });
const send = (m) => child.stdin.write(`${JSON.stringify(m)}\n`);
const timer = setTimeout(() => {
  console.error('check-package: no tools/list answer from the installed server within 60 s');
  child.kill();
  process.exit(1);
}, 60_000);
let buf = '';
child.stdout.on('data', (chunk) => {
  buf += chunk;
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const msg = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (msg.id === 1) {
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    } else if (msg.id === 2) {
      const n = msg.result?.tools?.length ?? 0;
      clearTimeout(timer);
      child.stdin.end();
      if (n < 1) {
        console.error('check-package: tools/list answered without tools');
        process.exit(1);
      }
      console.log(`check-package: installed tarball OK (--version, --help, stdio tools/list: ${n} tools)`);
    }
  }
});
send({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'check-package', version: '0' } },
});
JS
