// The views in a real browser: Debian's Chromium, headless, driven by playwright-core. A minimal host page built
// on the ext-apps AppBridge loads each view's ui:// resource, read through a real MCP client from the server
// on the sandbox, and hands it the tool's real result; tool calls the view makes go back through that client.
// Checked: the DOM against the data, no console errors, no network request from the page or the view, and
// only read tools called. Screenshots (light and dark) are taken only when asked: SCREENSHOTS=1 writes them to
// .scratch/views/, UPDATE_SCREENSHOTS=1 to docs/img/views/ (what `npm run screenshots` does); the dark theme
// switch is checked either way.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium, type FrameLocator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type ToolResult } from '../helpers/harness.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  const message = `\n*** ${CHROMIUM} is missing: the MCP Apps browser tests are SKIPPED. Install Debian's chromium (apt-get install chromium), as .ci/run does. ***\n`;
  // CI installs it: there a missing browser is a failure, not a skip.
  if (process.env['DIVIO_MCP_REQUIRE_CHROMIUM'] === '1') throw new Error(message);
  console.warn(message);
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS =
  process.env['UPDATE_SCREENSHOTS'] === '1'
    ? `${root}docs/img/views/`
    : process.env['SCREENSHOTS'] === '1'
      ? `${root}.scratch/views/`
      : undefined;
const HOST_URL = 'http://divio-mcp-host.test/';
const POLL = { timeout: 15_000 };

/** What ui/test-host.ts puts on the host page's window (this file is compiled without the DOM library). */
interface HostWindow {
  mountView(mount: unknown): Promise<void>;
  sendToolResult(result: unknown): Promise<void>;
  setTheme(theme: 'light' | 'dark'): Promise<void>;
}

interface Call {
  name: string;
  args: Record<string, unknown>;
  /** What the view was handed back. */
  result?: ToolResult;
}

async function hostPage(): Promise<string> {
  const out = await build({
    entryPoints: [`${root}ui/test-host.ts`],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    // Half the bytes for the browser to parse on every mount.
    minify: true,
    logLevel: 'warning',
  });
  const js = out.outputFiles[0]?.text ?? '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>test host</title></head><body>
<iframe id="view" title="view" sandbox="allow-scripts" style="width:720px;height:400px;border:0;display:block"></iframe>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script></body></html>`;
}

describe.skipIf(!available)('MCP Apps views in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let readTools: Set<string>;
  const requests: string[] = [];
  const errors: string[] = [];
  const calls: Call[] = [];

  beforeAll(async () => {
    // Deploys take 3 s, so the view can be seen following one while it runs.
    [h, browser] = await Promise.all([
      startHarness({ apps: true, config: { confirmMode: 'none' }, sandbox: { timings: { deployMs: 3000 } } }),
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // The flags this machine's closed network needs (no background connections), and root needs no-sandbox.
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    const tools = (await h.mcp.listTools()).tools;
    readTools = new Set(tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name));
    const html = await hostPage();
    const context = await browser.newContext({ viewport: { width: 760, height: 1400 } });
    // Nothing leaves the browser: the host page is answered here, every other request is recorded and refused.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === HOST_URL) return route.fulfill({ status: 200, contentType: 'text/html', body: html });
      requests.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on('request', (r) => {
      if (r.url() !== HOST_URL) requests.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.exposeFunction('hostCallTool', async (name: string, args: Record<string, unknown>) => {
      const call: Call = { name, args };
      calls.push(call);
      call.result = (await h.mcp.callTool({ name, arguments: args })) as ToolResult;
      return call.result;
    });
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function mount(tool: string, input: Record<string, unknown>): Promise<FrameLocator> {
    const listed = (await h.mcp.listTools()).tools.find((t) => t.name === tool);
    const uri = (listed?._meta?.['ui'] as { resourceUri?: string } | undefined)?.resourceUri;
    expect(uri).toMatch(/^ui:\/\//);
    const read = await h.mcp.readResource({ uri: uri ?? '' });
    const content = read.contents[0] as { text: string; _meta?: { ui?: { csp?: unknown } } };
    calls.length = 0;
    await page.goto(HOST_URL);
    await page.evaluate((m) => (globalThis as unknown as HostWindow).mountView(m), {
      html: content.text,
      csp: content._meta?.ui?.csp as never,
      theme: 'light' as const,
      toolName: tool,
      toolInput: input,
    });
    return page.frameLocator('#view');
  }

  const sendResult = (result: ToolResult) =>
    page.evaluate((r) => (globalThis as unknown as HostWindow).sendToolResult(r), result as never);

  /** The view follows the host to the dark theme; screenshots of both when asked for. */
  async function screenshots(name: string, frame: FrameLocator): Promise<void> {
    if (SHOTS) await page.locator('#view').screenshot({ path: `${SHOTS}${name}-light.png` });
    await page.evaluate(() => (globalThis as unknown as HostWindow).setTheme('dark'));
    await expect.poll(() => frame.locator('html').getAttribute('data-theme'), POLL).toBe('dark');
    if (SHOTS) await page.locator('#view').screenshot({ path: `${SHOTS}${name}-dark.png` });
  }

  function expectCleanRun(): void {
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    // Views call read tools only. A name this server does not have is refused by it without effect (a view
    // built for a newer server leaves that section out); a write tool is never called.
    for (const call of calls) {
      expect(readTools.has(call.name), `${call.name} is a read tool`).toBe(true);
    }
  }

  /** The error histogram and the metric sparklines, as the view got them from the read tools. */
  async function histogramAndMetrics(frame: FrameLocator): Promise<void> {
    // The error histogram over the window: one bar per bucket of get_environment_logs, the peak marked.
    const logsCall = calls.find((c) => c.name === 'get_environment_logs');
    expect(logsCall?.args).toMatchObject({ level: 'error', since: '1h', buckets: 24 });
    const logs = logsCall?.result ?? { content: [] };
    const hist = (
      logs.structuredContent as {
        histogram: {
          buckets: { from: string; count: number }[];
          peak: { from: string; count: number } | null;
        };
      }
    ).histogram;
    const bars = frame.locator('#histogram rect.bar');
    expect(await bars.count()).toBe(hist.buckets.length);
    expect(await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))))).toEqual(
      hist.buckets.map((b) => b.count),
    );
    if (hist.peak && hist.peak.count > 0) {
      expect(await frame.locator('#histogram rect.bar.peak').getAttribute('data-start')).toBe(hist.peak.from);
      expect(await frame.locator('#histogram svg').getAttribute('aria-label')).toContain(
        `peak ${hist.peak.count}`,
      );
    }
    // Metric sparklines with units, from get_environment_metrics over the same window.
    const metricsCall = calls.find((c) => c.name === 'get_environment_metrics');
    expect(metricsCall?.args).toMatchObject({ window: '1h', series: true });
    const metrics = (
      (metricsCall?.result ?? { content: [] }).structuredContent as {
        metrics: { name: string; unit: string | null }[];
      }
    ).metrics;
    expect(metrics.length).toBeGreaterThan(0);
    expect(
      await frame
        .locator('#metrics .metric')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-metric'))),
    ).toEqual(metrics.map((m) => m.name));
    for (const m of metrics.filter((x) => x.unit)) {
      expect(await frame.locator(`#metrics [data-metric="${m.name}"] .k`).textContent()).toContain(
        `(${m.unit})`,
      );
    }
    expect(await frame.locator('#metrics svg[role="img"]').count()).toBeGreaterThan(0);
  }

  it('environment dashboard: status, deployments, backup age and findings; the window re-queries', async () => {
    const frame = await mount('get_environment', { app: 'shop', environment: 'live' });
    const result = await h.call('get_environment', { app: 'shop', environment: 'live' });
    const status = result.structuredContent as {
      url: string | null;
      released_deployment: { uuid: string } | null;
      last_finished_deployment: { uuid: string; success: boolean } | null;
    };
    await sendResult(result);
    const main = frame.locator('main');
    await frame.locator('#findings li').first().waitFor();
    await expect.poll(() => main.getAttribute('aria-busy'), POLL).toBe('false');
    expect(await frame.locator('#url').textContent()).toBe(status.url ?? 'none');
    expect(await frame.locator('#released').getAttribute('class')).toBe('card');
    expect(await frame.locator('#released .mono').getAttribute('title')).toBe(
      status.released_deployment?.uuid,
    );
    // The seeded shop/live: its last deploy failed while the previous release keeps serving.
    expect(status.last_finished_deployment?.success).toBe(false);
    expect(await frame.locator('#last .v').textContent()).toContain('failed');
    expect(await frame.locator('#backup').textContent()).toMatch(/ago|none found/);
    expect(await main.getAttribute('data-verdict')).toBe('failing');
    // The findings are diagnose_environment's, read by the view through the host.
    const diagnosed = calls.find((c) => c.name === 'diagnose_environment');
    expect(diagnosed?.args).toEqual({ app: 'shop', environment: 'live', since: '1h' });
    const errors = diagnosed?.result?.structuredContent?.['errors'] as Record<string, number>;
    expect(await frame.locator('#error-count').textContent()).toBe(
      `${errors['error_events'] ?? errors['error_lines']} errors in the window`,
    );
    const findings = await frame.locator('#findings li').allTextContents();
    expect(findings.some((f) => f.includes('The last deployment failed'))).toBe(true);

    await histogramAndMetrics(frame);

    // Keyboard: the window selector is a radio group; arrow keys move and re-query.
    await frame.locator('input[value="1h"]').focus();
    await page.keyboard.press('ArrowRight');
    await expect
      .poll(() => calls.filter((c) => c.name === 'diagnose_environment').map((c) => c.args['since']), POLL)
      .toEqual(['1h', '6h']);
    await expect.poll(() => main.getAttribute('aria-busy'), POLL).toBe('false');
    expect(await frame.locator('input[value="6h"]').isChecked()).toBe(true);
    const windows = calls.filter((c) => c.name === 'get_environment_metrics').map((c) => c.args['window']);
    expect(windows).toEqual(['1h', '6h']);
    expect(
      await frame
        .locator('input[value="6h"]')
        .evaluate((el) => (el as { matches(s: string): boolean }).matches(':focus')),
    ).toBe(true);
    await screenshots('environment', frame);
    expectCleanRun();
  });

  it('environment dashboard from diagnose_environment shows its findings without asking again', async () => {
    const frame = await mount('diagnose_environment', { app: 'blog', environment: 'live' });
    const result = await h.call('diagnose_environment', { app: 'blog', environment: 'live' });
    const out = result.structuredContent as { verdict: string; findings: { message: string }[] };
    await sendResult(result);
    await frame.locator('#findings li').first().waitFor();
    expect(await frame.locator('main').getAttribute('data-verdict')).toBe(out.verdict);
    expect(await frame.locator('#findings li').count()).toBe(out.findings.length);
    expect(calls.filter((c) => c.name === 'diagnose_environment')).toEqual([]);
    expectCleanRun();
  });

  it('fleet board: one tile per environment, worst first; a tile opens its dashboard and comes back', {
    timeout: 60_000,
  }, async () => {
    const frame = await mount('get_fleet_overview', {});
    const result = await h.call('get_fleet_overview', {});
    const rows = (
      result.structuredContent as { rows: { app: string; environment: string; status: string }[] }
    ).rows;
    expect(rows.length).toBeGreaterThan(1);
    await sendResult(result);
    const tiles = frame.locator('#tiles button');
    await tiles.first().waitFor();
    const shown = await tiles.evaluateAll((els) =>
      els.map((e) => ({
        key: `${e.getAttribute('data-app')}/${e.getAttribute('data-environment')}`,
        health: e.getAttribute('data-health') ?? '',
      })),
    );
    // Every row is a tile, coloured by its status...
    const health: Record<string, string> = {
      failing: 'error',
      degraded: 'warning',
      healthy: 'ok',
      unknown: 'unknown',
    };
    expect(new Map(shown.map((t) => [t.key, t.health]))).toEqual(
      new Map(rows.map((r) => [`${r.app}/${r.environment}`, health[r.status]])),
    );
    // ...worst first.
    const rank: Record<string, number> = { error: 0, warning: 1, unknown: 2, ok: 3 };
    const ranks = shown.map((t) => rank[t.health] ?? 9);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(shown[0]?.health).toBe('error');
    await screenshots('fleet', frame);

    // Keyboard: Enter on the worst tile opens that environment's dashboard, read through get_environment.
    const [app, environment] = (shown[0]?.key ?? '/').split('/');
    await tiles.first().focus();
    await page.keyboard.press('Enter');
    await frame.locator('#back').waitFor();
    await frame.locator('#url').waitFor();
    expect(calls.find((c) => c.name === 'get_environment')?.args).toEqual({ app, environment });
    expect(await frame.locator('h1').textContent()).toBe(`${app} / ${environment}`);
    // Back to the tiles, with the focus on the tile that was opened.
    expect(
      await frame
        .locator('#back')
        .evaluate((el) => (el as { matches(s: string): boolean }).matches(':focus')),
    ).toBe(true);
    await page.keyboard.press('Enter');
    await tiles.first().waitFor();
    expect(
      await tiles.first().evaluate((el) => (el as { matches(s: string): boolean }).matches(':focus')),
    ).toBe(true);
    expectCleanRun();
  });

  it('deploy progress follows a running deploy to 100 % and the outcome', async () => {
    // The deploy's simulated time is held halfway until the view has seen it running.
    h.clock.setAuto(false);
    let running: Promise<ToolResult> | undefined;
    let during: number;
    let frame: Awaited<ReturnType<typeof mount>>;
    try {
      // A host mounts the view when the call starts and sends its arguments.
      running = h.call('deploy_environment', { app: 'shop', environment: 'test' });
      frame = await mount('deploy_environment', { app: 'shop', environment: 'test' });
      await h.clock.sleeping();
      await h.clock.advance(1_500);
      // While the call runs, the view follows the deployment through read tools: phase, percent, log tail.
      await frame.locator('main[data-phase="running"]').waitFor();
      await frame.locator('#log').waitFor();
      during = Number(await frame.locator('main').getAttribute('data-percent'));
    } finally {
      h.clock.setAuto(true);
    }
    expect(during).toBeGreaterThanOrEqual(0);
    expect(during).toBeLessThan(100);
    const result = await running;
    const out = (result.structuredContent as { result: { deployment: { uuid: string; success: boolean } } })
      .result;
    expect(out.deployment.success).toBe(true);
    await sendResult(result);
    await frame.locator('main[data-phase="succeeded"][data-percent="100"]').waitFor();
    expect(await frame.locator('#outcome').textContent()).toContain('succeeded');
    expect(await frame.locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('100');
    expect(calls.some((c) => c.name === 'get_deployment_log')).toBe(true);
    await screenshots('deploy', frame);
    expectCleanRun();
  });

  it('deploy progress shows the failing part of the log when the deploy fails', async () => {
    const frame = await mount('deploy_environment', { app: 'shop', environment: 'live' });
    const result = await h.call('deploy_environment', { app: 'shop', environment: 'live' });
    const out = (result.structuredContent as { result: { failure_excerpt: string[] | null } }).result;
    expect(out.failure_excerpt?.length).toBeGreaterThan(0);
    await sendResult(result);
    await frame.locator('main[data-phase="failed"]').waitFor();
    expect(await frame.locator('#outcome pre').textContent()).toBe(out.failure_excerpt?.join('\n'));
    await screenshots('deploy-failed', frame);
    expectCleanRun();
  });

  it('deploy progress waiting for confirmation says so and offers nothing to confirm', async () => {
    const frame = await mount('deploy_environment', { app: 'blog', environment: 'test' });
    // What a token-mode server answers first: a preview and a confirmation token.
    await sendResult({
      content: [{ type: 'text', text: 'Confirmation required.' }],
      structuredContent: {
        confirmation_required: true,
        preview: { summary: 'Deploy blog/test with build mode AUTO.', details: { Branch: "'<b>main</b>'" } },
        confirmation_token: 'secret-token-never-shown',
        expires_at: '2026-12-02T10:00:00Z',
        result: null,
      },
    });
    await frame.locator('main[data-phase="confirmation"]').waitFor();
    const text = (await frame.locator('main').textContent()) ?? '';
    expect(text).toContain('Deploy blog/test with build mode AUTO.');
    // Platform text stays text.
    expect(text).toContain("'<b>main</b>'");
    expect(await frame.locator('main b').count()).toBe(0);
    expect(text).not.toContain('secret-token-never-shown');
    expect(await frame.locator('button').count()).toBe(0);
    expectCleanRun();
  });
});
