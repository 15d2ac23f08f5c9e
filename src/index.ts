#!/usr/bin/env node
// The published entry point (package.json "bin", the Docker ENTRYPOINT, and the absolute path people put in
// their MCP client configuration): dist/index.js. It stays here so those paths keep working; the CLI is in cli/.
// The compile cache is turned on first (Node.js 22.8 and later; see cli/compile-cache.ts): the server, which the
// command line imports when it serves, is then read from the cache instead of compiled again. (Importing the
// command line itself after it, dynamically, cached a little more on Node 22 but cost Node 20 about 3 %.)
import './cli/compile-cache-on.js';
import './cli/main.js';
