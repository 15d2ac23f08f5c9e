import { Bridge, type HostContext, type Json, type ToolResult } from './bridge.js';
import { h } from './dom.js';

declare const __VERSION__: string;

/** Follows the host's theme and style variables; until the host says, the system's preference. */
export function applyHostContext(context: HostContext): void {
  const root = document.documentElement;
  if (context.theme === 'light' || context.theme === 'dark') root.dataset['theme'] = context.theme;
  for (const [key, value] of Object.entries(context.styles?.variables ?? {})) {
    if (key.startsWith('--') && typeof value === 'string') root.style.setProperty(key, value);
  }
}

export function textOf(result: ToolResult): string {
  return (result.content ?? [])
    .filter((c) => c.type === 'text' && typeof c.text === 'string')
    .map((c) => c.text)
    .join('\n');
}

/** The result's structured content, or an Error carrying the tool's own words. */
export function structured(result: ToolResult): Json {
  if (result.isError || !result.structuredContent)
    throw new Error(textOf(result) || 'The tool returned no data.');
  return result.structuredContent;
}

/** Connects to the host; `main` is the page's root element, whose busy state follows the connection. */
export function startView(name: string, main: HTMLElement): Bridge {
  document.documentElement.dataset['theme'] = matchMedia('(prefers-color-scheme: dark)').matches
    ? 'dark'
    : 'light';
  const bridge = new Bridge({ name: `divio-mcp ${name} view`, version: __VERSION__ });
  bridge.onHostContext = applyHostContext;
  bridge
    .connect()
    .then(applyHostContext)
    .catch((error: unknown) => {
      main.replaceChildren(
        h('p', { class: 'error', role: 'alert' }, `Could not connect to the host: ${String(error)}`),
      );
    });
  return bridge;
}
