import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type ListToolsResult,
  type McpServer,
  type ServerContext,
} from '@modelcontextprotocol/server';

// MCP Apps (modelcontextprotocol/ext-apps, specification/2026-01-26/apps.mdx): a tool names a `ui://` resource
// in `_meta.ui.resourceUri`; a host that declared the extension reads it and renders it in a sandboxed iframe.

/** The extension's key in `capabilities.extensions` (the spec's EXTENSION_ID). */
export const APPS_EXTENSION = 'io.modelcontextprotocol/ui';
/** The MIME type of an app's HTML resource (the spec's RESOURCE_MIME_TYPE). */
export const APP_MIME_TYPE = 'text/html;profile=mcp-app';
/** The flat key older hosts read, next to `_meta.ui.resourceUri` (the spec's RESOURCE_URI_META_KEY). */
export const LEGACY_RESOURCE_URI_KEY = 'ui/resourceUri';

/**
 * A client supports views when it declared the extension with our MIME type. 2026-07-28 clients declare
 * capabilities per request; 2025-era clients once, at initialize.
 */
export function clientSupportsApps(server: McpServer, ctx: Pick<ServerContext, 'mcpReq'>): boolean {
  const fromEnvelope = ctx.mcpReq.envelope?.[
    CLIENT_CAPABILITIES_META_KEY as keyof typeof ctx.mcpReq.envelope
  ] as ClientCapabilities | undefined;
  const caps = fromEnvelope ?? server.server.getClientCapabilities();
  const ext = caps?.extensions?.[APPS_EXTENSION] as { mimeTypes?: unknown } | undefined;
  return Array.isArray(ext?.mimeTypes) && ext.mimeTypes.includes(APP_MIME_TYPE);
}

type ListHandler = (request: unknown, ctx: ServerContext) => ListToolsResult | Promise<ListToolsResult>;

/**
 * Runs `register` (which registers tools) so that `tools/list` names each linked tool's view, but only for a
 * client that negotiated MCP Apps: every other client gets the list exactly as the SDK builds it.
 *
 * McpServer builds `tools/list` from its registrations without looking at the request, so the list cannot
 * vary per client through the registration API. Instead this catches the list handler McpServer installs on
 * its Server while `register` runs (through Server's public `setRequestHandler`) and installs it wrapped.
 * The instance's own `setRequestHandler` is restored afterwards.
 */
export function withViewLinks(
  server: McpServer,
  links: ReadonlyMap<string, string>,
  register: () => void,
): void {
  const inner = server.server as unknown as { setRequestHandler: (...args: unknown[]) => unknown };
  const original = inner.setRequestHandler;
  const ownProperty = Object.hasOwn(inner, 'setRequestHandler');
  inner.setRequestHandler = function (this: unknown, ...args: unknown[]) {
    const [method, handler] = args;
    if (method === 'tools/list' && typeof handler === 'function' && links.size > 0) {
      const list = handler as ListHandler;
      const wrapped: ListHandler = async (request, ctx) => {
        const result = await list(request, ctx);
        return clientSupportsApps(server, ctx) ? linkTools(result, links) : result;
      };
      return original.call(this, method, wrapped);
    }
    return original.apply(this, args);
  };
  try {
    register();
  } finally {
    // The method normally lives on the prototype: removing the instance's own property restores it.
    if (ownProperty) inner.setRequestHandler = original;
    else delete (inner as { setRequestHandler?: unknown }).setRequestHandler;
  }
}

function linkTools(result: ListToolsResult, links: ReadonlyMap<string, string>): ListToolsResult {
  return {
    ...result,
    tools: result.tools.map((tool) => {
      const uri = links.get(tool.name);
      if (!uri) return tool;
      const meta = (tool._meta ?? {}) as Record<string, unknown>;
      const ui = (meta['ui'] ?? {}) as Record<string, unknown>;
      return { ...tool, _meta: { ...meta, ui: { ...ui, resourceUri: uri }, [LEGACY_RESOURCE_URI_KEY]: uri } };
    }),
  };
}
