import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  EXTENSION_ID,
  RESOURCE_MIME_TYPE,
  RESOURCE_URI_META_KEY,
} from '@modelcontextprotocol/ext-apps/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_MIME_TYPE, APPS_EXTENSION, LEGACY_RESOURCE_URI_KEY } from '../src/mcp/apps.js';
import { VIEWS } from '../src/resources/views.js';
import { ERAS, type Harness, startHarness } from './helpers/harness.js';

type Tool = { name: string; _meta?: Record<string, unknown> };

function withoutViewLinks(tools: Tool[]): Tool[] {
  return tools.map((tool) => {
    const { ui: _ui, [LEGACY_RESOURCE_URI_KEY]: _flat, ...rest } = tool._meta ?? {};
    const copy = { ...tool };
    if (Object.keys(rest).length) copy._meta = rest;
    else delete copy._meta;
    return copy;
  });
}

it('uses the MCP Apps identifiers of the ext-apps package', () => {
  expect(APPS_EXTENSION).toBe(EXTENSION_ID);
  expect(APP_MIME_TYPE).toBe(RESOURCE_MIME_TYPE);
  expect(LEGACY_RESOURCE_URI_KEY).toBe(RESOURCE_URI_META_KEY);
});

describe.each(ERAS)('MCP Apps views (%s era)', (era) => {
  let plain: Harness;
  let apps: Harness;
  beforeAll(async () => {
    // One fixed clock: both sandboxes seed the same data with the same timestamps.
    const now = () => Date.parse('2026-11-23T10:00:00Z');
    [plain, apps] = await Promise.all([
      startHarness({ era, sandbox: { now } }),
      startHarness({ era, apps: true, sandbox: { now } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([plain.close(), apps.close()]);
  });

  it('links views in tools/list only for a client that negotiated MCP Apps', async () => {
    const plainTools = (await plain.mcp.listTools()).tools as Tool[];
    const appTools = (await apps.mcp.listTools()).tools as Tool[];
    expect(JSON.stringify(plainTools)).not.toContain('ui://');
    const linked = Object.fromEntries(
      appTools.filter((t) => t._meta?.['ui']).map((t) => [t.name, t._meta?.['ui']]),
    );
    // Every view's tools that this server has (a view may name a tool of a toolset switched off).
    const names = new Set(plainTools.map((t) => t.name));
    const expected = Object.fromEntries(
      VIEWS.flatMap((v) => v.tools.filter((n) => names.has(n)).map((name) => [name, { resourceUri: v.uri }])),
    );
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(['get_environment', 'deploy_environment']));
    expect(linked).toEqual(expected);
    for (const t of appTools) {
      const ui = t._meta?.['ui'] as { resourceUri: string } | undefined;
      if (ui) expect(t._meta?.[LEGACY_RESOURCE_URI_KEY]).toBe(ui.resourceUri);
    }
    // Apart from the links, both clients see the very same list.
    expect(withoutViewLinks(appTools)).toEqual(plainTools);
  });

  it('answers tool calls the same whether or not the client renders views', async () => {
    const args = { app: 'shop', environment: 'live' };
    const [a, b] = await Promise.all([
      plain.call('get_environment', args),
      apps.call('get_environment', args),
    ]);
    expect(b).toEqual(a);
    expect(a.isError).toBeFalsy();
  });

  it('keeps resources/list as it was: views are read by URI', async () => {
    const [a, b] = await Promise.all([plain.mcp.listResources(), apps.mcp.listResources()]);
    expect(b).toEqual(a);
    expect(JSON.stringify(a)).not.toContain('ui://');
  });

  it.each(VIEWS.map((v) => [v.name, v] as const))(
    'serves the %s view: self-contained, strict CSP, small',
    async (_name, view) => {
      const read = await apps.mcp.readResource({ uri: view.uri });
      expect(read.contents).toHaveLength(1);
      const content = read.contents[0] as {
        uri: string;
        mimeType: string;
        text: string;
        _meta?: { ui?: { csp?: Record<string, unknown> } };
      };
      expect(content).toMatchObject({ uri: view.uri, mimeType: RESOURCE_MIME_TYPE });
      expect(content._meta?.ui?.csp).toEqual({
        connectDomains: [],
        resourceDomains: [],
        frameDomains: [],
        baseUriDomains: [],
      });
      const html = content.text;
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'none'");
      expect(csp).not.toContain('unsafe');
      // The one script and the one style sheet are allowed by their hashes, and nothing else is loaded.
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
      const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
      expect(scripts).toHaveLength(1);
      expect(styles).toHaveLength(1);
      const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
      expect(csp).toContain(`script-src ${hash(scripts[0] ?? '')}`);
      expect(csp).toContain(`style-src ${hash(styles[0] ?? '')}`);
      expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
      expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
      expect(gzipSync(html).length).toBeLessThan(150 * 1024);
      // A plain client can read it too (by URI); it is simply never pointed at it.
      expect((await plain.mcp.readResource({ uri: view.uri })).contents[0]).toEqual(content);
    },
  );
});

it('does not link a view whose tools are switched off', async () => {
  const h = await startHarness({ apps: true, config: { readOnly: true } });
  try {
    const tools = (await h.mcp.listTools()).tools as Tool[];
    expect(tools.find((t) => t.name === 'deploy_environment')).toBeUndefined();
    expect(tools.find((t) => t.name === 'get_environment')?._meta?.['ui']).toEqual({
      resourceUri: 'ui://divio/environment.html',
    });
  } finally {
    await h.close();
  }
});
