// Builds the MCP Apps views (ui/*.ts) into self-contained pages, dist/ui/<name>.html: one inline script, one
// inline style sheet, and a Content-Security-Policy that allows exactly those two (by hash) and nothing from
// the network. Run by `npm run build` and by the test setup; `--sizes` prints each page's gzip size.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each view: its entry file and page title. */
export const VIEW_PAGES = [
  { name: 'environment', title: 'Environment dashboard' },
  { name: 'deploy', title: 'Deploy progress' },
  { name: 'fleet', title: 'Fleet board' },
];

/** The README promises each page stays under this many bytes gzip-compressed. */
export const GZIP_BUDGET = 150 * 1024;

const sha256 = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export async function buildViews(outDir = `${root}dist/ui/`) {
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const css = readFileSync(`${root}ui/style.css`, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .trim();
  mkdirSync(outDir, { recursive: true });
  const sizes = [];
  for (const page of VIEW_PAGES) {
    const out = await build({
      entryPoints: [`${root}ui/${page.name}.ts`],
      bundle: true,
      minify: true,
      format: 'iife',
      target: 'es2022',
      platform: 'browser',
      write: false,
      legalComments: 'none',
      define: { __VERSION__: JSON.stringify(version) },
      logLevel: 'warning',
    });
    // `</script` inside the bundle would end the element early; esbuild escapes it, this checks.
    const js = out.outputFiles[0].text.trim();
    if (/<\/script/i.test(js)) throw new Error(`ui/${page.name}.ts: the bundle contains </script`);
    const csp = [
      "default-src 'none'",
      `script-src ${sha256(js)}`,
      `style-src ${sha256(css)}`,
      'img-src data:',
      "connect-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ].join('; ');
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<style>${css}</style>
</head>
<body>
<main id="app" aria-live="polite"></main>
<script>${js}</script>
</body>
</html>
`;
    writeFileSync(`${outDir}${page.name}.html`, html);
    sizes.push({
      name: page.name,
      bytes: Buffer.byteLength(html),
      gzip: gzipSync(html, { level: 9 }).length,
    });
  }
  for (const s of sizes) {
    if (s.gzip > GZIP_BUDGET)
      throw new Error(`dist/ui/${s.name}.html is ${s.gzip} bytes gzipped, over the budget`);
  }
  return sizes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildViews();
  if (process.argv.includes('--sizes')) {
    for (const s of sizes) console.log(`${s.name}: ${s.bytes} bytes, ${(s.gzip / 1024).toFixed(1)} KiB gzip`);
  }
}
