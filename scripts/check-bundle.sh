#!/usr/bin/env bash
# Builds the MCP Bundle (npm run bundle validates its manifest), unpacks it into an empty folder and starts the
# server from it as Claude Desktop would: the manifest's entry point, user settings as environment variables.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

npm run bundle --silent >"$work/bundle.log" 2>&1 || { cat "$work/bundle.log" >&2; exit 1; }
node node_modules/@anthropic-ai/mcpb/dist/cli/cli.js unpack divio-mcp.mcpb "$work/unpacked" >/dev/null
entry="$(node -p "require('$work/unpacked/manifest.json').server.entry_point")"
# What Claude Desktop passes for the settings: the sandbox on, the rest left at their defaults.
DIVIO_SANDBOX=true DIVIO_API_TOKEN='' DIVIO_MCP_READ_ONLY=false DIVIO_MCP_PROTECTED_ENVIRONMENTS='' \
  node "$root/scripts/stdio-smoke.mjs" node "$work/unpacked/$entry"
echo "check-bundle: divio-mcp.mcpb validates, unpacks and starts"
