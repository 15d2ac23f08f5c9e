import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProtocolError, ProtocolErrorCode, type ReadResourceResult } from '@modelcontextprotocol/server';
import { APP_MIME_TYPE } from '../mcp/apps.js';
import type { Toolset } from '../mcp/config.js';

/**
 * The MCP Apps views: self-contained HTML pages built from ui/ by scripts/build-views.mjs into dist/ui/. A
 * view only reads: it renders the result of the tool that linked it and may call read tools through the host.
 */
export interface View {
  name: string;
  uri: string;
  title: string;
  description: string;
  /** The area whose switch (--toolsets) turns the view off with its tools. */
  toolset: Toolset;
  /** The tools whose `tools/list` entry names this view (for clients that negotiated MCP Apps). */
  tools: readonly string[];
}

export const VIEWS: readonly View[] = [
  {
    name: 'environment',
    uri: 'ui://divio/environment.html',
    title: 'Environment dashboard',
    description:
      'Status, URL, released and running deployment, last successful backup and findings of one environment.',
    toolset: 'apps',
    tools: ['get_environment', 'diagnose_environment'],
  },
  {
    name: 'deploy',
    uri: 'ui://divio/deploy.html',
    title: 'Deploy progress',
    description: 'Phase, percent, elapsed time and build log tail of a deploy, then its outcome.',
    toolset: 'deploy',
    tools: ['deploy_environment'],
  },
  {
    name: 'fleet',
    uri: 'ui://divio/fleet.html',
    title: 'Fleet board',
    description:
      'One tile per application environment, coloured by health and worst first; a tile opens its dashboard.',
    toolset: 'apps',
    tools: ['get_fleet_overview'],
  },
];

/**
 * dist/ui/ of this package: next to the bundled server (dist/index.js and its chunks, scripts/build.mjs), or two
 * levels up from src/resources/ (tests run the sources).
 */
const UI_DIR =
  [new URL('ui/', import.meta.url), new URL('../../dist/ui/', import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((dir) => existsSync(dir)) ?? fileURLToPath(new URL('../../dist/ui/', import.meta.url));

export function viewFile(view: Pick<View, 'name'>): string {
  return `${UI_DIR}${view.name}.html`;
}

const html = new Map<string, string>();

function viewHtml(view: View): string | null {
  const cached = html.get(view.name);
  if (cached !== undefined) return cached;
  const file = viewFile(view);
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  html.set(view.name, text);
  return text;
}

/** Tool name -> view URI, for the views that were built (a link never points at a page that cannot be read). */
export function viewLinks(): Map<string, string> {
  const links = new Map<string, string>();
  for (const view of VIEWS) {
    if (viewHtml(view) === null) continue;
    for (const tool of view.tools) links.set(tool, view.uri);
  }
  return links;
}

/**
 * The view's HTML with its metadata: no network origins at all (the spec's secure default, spelled out), so a
 * host's sandbox allows nothing beyond the inline code; the page's own CSP says the same.
 */
export function readView(view: View, uri: string): ReadResourceResult {
  const text = viewHtml(view);
  if (text === null) {
    throw new ProtocolError(
      ProtocolErrorCode.InternalError,
      `The ${view.title} view was not built (dist/ui/${view.name}.html is missing): run npm run build.`,
    );
  }
  return {
    contents: [
      {
        uri,
        mimeType: APP_MIME_TYPE,
        text,
        _meta: {
          ui: {
            csp: { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] },
            prefersBorder: true,
          },
        },
      },
    ],
  };
}
