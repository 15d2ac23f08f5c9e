// `npm run build`: the shipped entry point, src/index.ts, bundled with its dependencies into dist/ by esbuild.
// A small entry that parses the command line (so --help, --version, config and usage errors load little),
// the server in a few chunks, and chunks for what is imported lazily (the HTTP transport, the sandbox, the
// doctor, the config snippets). Loading a few files instead of some hundreds of modules cut the cold start's
// CPU time by about a third (`npm run bench`, docs/benchmarks.md). Types are checked by
// `npm run typecheck`, not here. Anything else in dist/ (the views' dist/ui/) is left alone.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

// Chunks are named by content hash: remove the previous build's, and the per-module output of the old tsc build.
for (const entry of (() => {
  try {
    return readdirSync(dist, { withFileTypes: true });
  } catch {
    return [];
  }
})()) {
  if (entry.name === 'ui') continue;
  if (entry.isDirectory() || /\.(js|map)$/.test(entry.name))
    rmSync(`${dist}/${entry.name}`, { recursive: true, force: true });
}

/*
 * zod re-exports each of its ~60 message locales as the `locales` namespace. The server reads none of them (zod's
 * English messages, its default, are imported by zod directly), but the bundle materialises zod's namespace for
 * the chunks that share it, which kept every locale: 45% of zod's chunk, parsed at every start. The namespace is
 * bundled with English only: about 5% less CPU time to the first tools/list (interleaved runs of 10 starts).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    // zod's own locales/index.js, rewritten in place (so the bundle's comments keep relative paths).
    b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
    }));
  },
};

await build({
  entryPoints: [`${root}src/index.ts`],
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies written as CommonJS call require() for Node's own modules; ES modules have none of their own.
  banner: {
    js: "import { createRequire as __divioMcpCreateRequire } from 'node:module'; const require = __divioMcpCreateRequire(import.meta.url);",
  },
  // Bundled modules no longer sit where they read package.json from; the version is written in instead.
  define: { DIVIO_MCP_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  plugins: [zodEnglishOnly],
});
