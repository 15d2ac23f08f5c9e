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

# A 2025-era handshake over stdio, then tools/list, against the embedded sandbox.
node "$root/scripts/stdio-smoke.mjs" "$bin" --sandbox
echo "check-package: installed tarball OK (--version, --help, stdio tools/list)"
