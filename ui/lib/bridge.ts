// The view's side of MCP Apps (modelcontextprotocol/ext-apps, specification/2026-01-26/apps.mdx): JSON-RPC 2.0
// over postMessage with the host window. A read-only view needs only the handshake, the host's notifications
// (tool input, tool result, context changes) and `tools/call`, so it speaks them itself instead of bundling the
// SDK's App class with its protocol stack and schemas. Tests drive it through the SDK's host-side AppBridge.

export type Json = Record<string, unknown>;

export interface ToolResult {
  content?: { type: string; text?: string }[];
  structuredContent?: Json;
  isError?: boolean;
}

export interface HostContext {
  theme?: 'light' | 'dark';
  styles?: { variables?: Record<string, string | undefined> };
  [key: string]: unknown;
}

export const PROTOCOL_VERSION = '2026-01-26';

interface Pending {
  resolve: (value: Json) => void;
  reject: (error: Error) => void;
}

export class Bridge {
  onToolInput: ((args: Json) => void) | undefined;
  onToolResult: ((result: ToolResult) => void) | undefined;
  onToolCancelled: ((reason: string | undefined) => void) | undefined;
  onHostContext: ((context: HostContext) => void) | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly appInfo: { name: string; version: string }) {
    window.addEventListener('message', (event) => this.receive(event));
  }

  /** The handshake: returns the host's context (theme, styles). */
  async connect(): Promise<HostContext> {
    const result = await this.request('ui/initialize', {
      appInfo: this.appInfo,
      appCapabilities: {},
      protocolVersion: PROTOCOL_VERSION,
    });
    this.notify('ui/notifications/initialized', {});
    this.reportSize();
    return (result['hostContext'] ?? {}) as HostContext;
  }

  /** Calls a tool on the server through the host. Views call read tools only. */
  async callTool(name: string, args: Json): Promise<ToolResult> {
    return (await this.request('tools/call', { name, arguments: args })) as ToolResult;
  }

  private request(method: string, params: Json): Promise<Json> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ jsonrpc: '2.0', id, method, params });
    });
  }

  private notify(method: string, params: Json): void {
    this.post({ jsonrpc: '2.0', method, params });
  }

  private post(message: Json): void {
    // A sandboxed view cannot know the host's origin; the host checks that messages come from its iframe.
    window.parent.postMessage(message, '*');
  }

  /** Hosts size the iframe to its content when told (the spec's size-changed notification). */
  private reportSize(): void {
    let last = '';
    const send = () => {
      const el = document.documentElement;
      const size = { width: Math.ceil(el.scrollWidth), height: Math.ceil(el.scrollHeight) };
      const key = `${size.width}x${size.height}`;
      if (key === last) return;
      last = key;
      this.notify('ui/notifications/size-changed', size);
    };
    new ResizeObserver(send).observe(document.body);
    send();
  }

  private receive(event: MessageEvent): void {
    if (event.source !== window.parent) return;
    const msg = event.data as Json | null;
    if (!msg || typeof msg !== 'object' || msg['jsonrpc'] !== '2.0') return;
    const id = msg['id'];
    const method = msg['method'];
    if (typeof method !== 'string') {
      const waiting = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (!waiting) return;
      this.pending.delete(id as number);
      const error = msg['error'] as { message?: unknown } | undefined;
      if (error) waiting.reject(new Error(String(error.message ?? 'the host refused the request')));
      else waiting.resolve((msg['result'] ?? {}) as Json);
      return;
    }
    const params = (msg['params'] ?? {}) as Json;
    if (id !== undefined) {
      // Host requests: teardown and ping need nothing from a read-only view but an answer.
      const known = method === 'ui/resource-teardown' || method === 'ping';
      this.post(
        known
          ? { jsonrpc: '2.0', id, result: {} }
          : { jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } },
      );
      return;
    }
    if (method === 'ui/notifications/tool-input') this.onToolInput?.((params['arguments'] ?? {}) as Json);
    else if (method === 'ui/notifications/tool-result') this.onToolResult?.(params as ToolResult);
    else if (method === 'ui/notifications/tool-cancelled')
      this.onToolCancelled?.(typeof params['reason'] === 'string' ? params['reason'] : undefined);
    else if (method === 'ui/notifications/host-context-changed') this.onHostContext?.(params as HostContext);
  }
}
