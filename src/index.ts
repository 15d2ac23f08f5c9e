#!/usr/bin/env node
// The published entry point (package.json "bin", the Docker ENTRYPOINT, and the absolute path people put in
// their MCP client configuration): dist/index.js. It stays here so those paths keep working; the CLI is in cli/.
import './cli/main.js';
