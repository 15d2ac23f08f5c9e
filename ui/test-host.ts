// A minimal MCP Apps host for the browser tests (not shipped): the SDK's host-side AppBridge talking to a
// view in a sandboxed iframe, with the view's declared CSP applied the way a host's sandbox applies it. Tool
// calls from the view go to the test process (window.hostCallTool, exposed by Playwright), which makes them
// with a real MCP client against the server on the sandbox.
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';

interface Csp {
  connectDomains?: string[];
  resourceDomains?: string[];
  frameDomains?: string[];
  baseUriDomains?: string[];
}

interface Mount {
  html: string;
  csp: Csp | undefined;
  theme: 'light' | 'dark';
  toolName: string;
  toolInput: Record<string, unknown>;
}

declare global {
  interface Window {
    hostCallTool: (name: string, args: unknown) => Promise<unknown>;
    mountView: (mount: Mount) => Promise<void>;
    sendToolResult: (result: unknown) => Promise<void>;
    setTheme: (theme: 'light' | 'dark') => Promise<void>;
  }
}

const list = (domains: string[] | undefined, none: string) => (domains?.length ? domains.join(' ') : none);

/** The policy a host derives from the resource's `_meta.ui.csp` (empty lists: nothing from the network). */
function hostPolicy(csp: Csp | undefined): string {
  const resources = list(csp?.resourceDomains, '');
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${resources}`.trim(),
    `style-src 'unsafe-inline' ${resources}`.trim(),
    `img-src data: ${resources}`.trim(),
    `font-src ${list(csp?.resourceDomains, "'none'")}`,
    `connect-src ${list(csp?.connectDomains, "'none'")}`,
    `frame-src ${list(csp?.frameDomains, "'none'")}`,
    `base-uri ${list(csp?.baseUriDomains, "'none'")}`,
  ].join('; ');
}

let bridge: AppBridge | null = null;

window.mountView = async (mount) => {
  const iframe = document.getElementById('view') as HTMLIFrameElement;
  const background = mount.theme === 'dark' ? '#18181b' : '#ffffff';
  document.body.style.background = background;
  bridge = new AppBridge(
    null,
    { name: 'divio-mcp test host', version: '1.0.0' },
    { serverTools: {}, logging: {} },
    { hostContext: { theme: mount.theme, displayMode: 'inline', platform: 'web' } },
  );
  bridge.oncalltool = async (params) =>
    (await window.hostCallTool(params.name, params.arguments ?? {})) as Awaited<
      ReturnType<NonNullable<AppBridge['oncalltool']>>
    >;
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.min(height, 2000)}px`;
  };
  const initialized = new Promise<void>((resolve) => {
    if (bridge) bridge.oninitialized = () => resolve();
  });
  const win = iframe.contentWindow;
  if (!win) throw new Error('the iframe has no window');
  await bridge.connect(new PostMessageTransport(win, win));
  const policy = `<meta http-equiv="Content-Security-Policy" content="${hostPolicy(mount.csp)}">`;
  iframe.srcdoc = mount.html.replace('<head>', `<head>${policy}`);
  await initialized;
  await bridge.sendToolInput({ arguments: mount.toolInput });
};

window.sendToolResult = async (result) => {
  if (!bridge) throw new Error('no view mounted');
  await bridge.sendToolResult(result as Parameters<AppBridge['sendToolResult']>[0]);
};

window.setTheme = async (theme) => {
  if (!bridge) throw new Error('no view mounted');
  document.body.style.background = theme === 'dark' ? '#18181b' : '#ffffff';
  bridge.setHostContext({ theme, displayMode: 'inline', platform: 'web' });
};
