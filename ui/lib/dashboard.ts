// The environment dashboard: the page of ui/environment.ts, and what a fleet tile opens. It shows a tool's
// result (get_environment or diagnose_environment), then completes it through read tools over the chosen
// window: diagnose_environment (findings, frequent errors, last good backup), get_environment_logs (error
// histogram), get_environment_metrics (sparklines) and, while a deployment runs, get_environment. It never writes.
import type { Bridge, Json, ToolResult } from './bridge.js';
import { type Bucket, histogram, sparkline } from './chart.js';
import { type Deployment, toDeployment } from './deployment.js';
import { fill, h } from './dom.js';
import { ago, duration, num, secondsBetween, shortId, str } from './format.js';
import { structured, textOf } from './view.js';

interface Metric {
  name: string;
  title: string;
  unit: string | null;
  latest: number | null;
  min: number | null;
  max: number | null;
  values: number[];
}

/** A section fed by one read tool: its data, or why it is missing (null: the server has no such tool). */
type Feed<T> = { data: T } | { note: string } | null;

interface Finding {
  severity: 'error' | 'warning' | 'info';
  message: string;
}

const WINDOWS = [
  { value: '1h', label: '1 h' },
  { value: '6h', label: '6 h' },
  { value: '24h', label: '24 h' },
  { value: '7d', label: '7 d' },
] as const;
type Window = (typeof WINDOWS)[number]['value'];

const POLL_MS = 3000;

export interface Dashboard {
  /** Shows a get_environment or diagnose_environment result, then reads the rest. */
  show(result: ToolResult): void;
  /** The tool's arguments, before its result arrives. */
  target(args: Json): void;
}

/** Renders into `main`; `back`, when given, is a button that leaves the dashboard (the fleet board's). */
export function dashboard(
  main: HTMLElement,
  bridge: Bridge,
  back?: { label: string; go: () => void },
): Dashboard {
  const state: {
    app: string | null;
    environment: string | null;
    status: Json | null;
    verdict: string | null;
    findings: Finding[] | null;
    errors: { window_start: string; error_lines: number; top: { count: number; message: string }[] } | null;
    backup: { uuid: string; created: string | null } | null | undefined;
    window: Window;
    histogram: Feed<Bucket[]>;
    metrics: Feed<Metric[]>;
    loading: boolean;
    message: string | null;
  } = {
    app: null,
    environment: null,
    status: null,
    verdict: null,
    findings: null,
    errors: null,
    backup: undefined,
    window: '1h',
    histogram: null,
    metrics: null,
    loading: false,
    message: null,
  };

  const SEVERITY_MARK: Record<Finding['severity'], string> = { error: '✕', warning: '!', info: 'i' };
  const VERDICT: Record<string, { tone: string; label: string }> = {
    healthy: { tone: 'ok', label: '✓ healthy' },
    degraded: { tone: 'warning', label: '! degraded' },
    failing: { tone: 'error', label: '✕ failing' },
  };

  function card(k: string, ...v: (Node | string | null)[]): HTMLElement {
    return h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, ...v));
  }

  function deploymentCard(label: string, d: Deployment | null, id: string): HTMLElement {
    if (!d) return card(label, 'none');
    const outcome = d.success === null ? 'running' : d.success ? 'succeeded' : 'failed';
    const tone = d.success === null ? 'running' : d.success ? 'ok' : 'failed';
    const mark = d.success === null ? '⟳' : d.success ? '✓' : '✕';
    const when =
      d.success === null
        ? `started ${ago(d.started_at)}, ${duration(secondsBetween(d.started_at, Date.now()))} so far`
        : `ended ${ago(d.ended_at)}`;
    const box = h(
      'div',
      { class: 'card', id },
      h('div', { class: 'k' }, label),
      h(
        'div',
        { class: `v ${tone}` },
        `${mark} ${outcome}`,
        d.status && d.success === null ? ` (${d.status})` : '',
      ),
      h(
        'div',
        { class: 'sub mono', title: d.uuid },
        shortId(d.uuid),
        d.git_commit ? ` · ${d.git_commit.slice(0, 10)}` : '',
      ),
      h('div', { class: 'sub' }, when),
    );
    if (d.success === null) {
      const percent = Math.max(0, Math.min(100, Math.round(d.percent ?? 0)));
      const bar = h('div');
      bar.style.width = `${percent}%`;
      box.append(
        h(
          'div',
          {
            class: 'meter',
            role: 'progressbar',
            'aria-valuemin': 0,
            'aria-valuemax': 100,
            'aria-valuenow': percent,
            'aria-label': 'Deploy progress',
          },
          bar,
        ),
      );
    }
    return box;
  }

  function windowSelector(): HTMLElement {
    return h(
      'fieldset',
      { id: 'window' },
      h('legend', null, 'Time window'),
      ...WINDOWS.map((w) => {
        const input = h('input', {
          type: 'radio',
          name: 'window',
          value: w.value,
          checked: state.window === w.value,
        });
        input.addEventListener('change', () => {
          state.window = w.value;
          void diagnose(bridge);
        });
        return h('label', null, input, h('span', null, w.label));
      }),
    );
  }

  function windowLabel(): string {
    return WINDOWS.find((w) => w.value === state.window)?.label ?? state.window;
  }

  function feedSection<T>(
    title: string,
    id: string,
    feed: Feed<T>,
    show: (data: T) => Node,
  ): HTMLElement | null {
    if (!feed) return null;
    return h(
      'section',
      { 'aria-label': title, id },
      h('h2', null, title),
      'data' in feed ? show(feed.data) : h('p', { class: 'note' }, feed.note),
    );
  }

  const fmt = (n: number | null, unit: string | null) =>
    n === null ? '–' : `${Number.isInteger(n) ? n : n.toFixed(1)}${unit ? ` ${unit}` : ''}`;

  function metricCard(m: Metric): HTMLElement {
    const summary = `${m.title}: latest ${fmt(m.latest, m.unit)}, min ${fmt(m.min, m.unit)}, max ${fmt(m.max, m.unit)}, last ${windowLabel()}`;
    return h(
      'div',
      { class: 'card metric', 'data-metric': m.name },
      h('div', { class: 'k' }, m.title, m.unit ? ` (${m.unit})` : ''),
      h('div', { class: 'v' }, fmt(m.latest, m.unit)),
      m.values.length > 1 ? sparkline(m.values, summary) : null,
      h('div', { class: 'sub' }, `min ${fmt(m.min, m.unit)} · max ${fmt(m.max, m.unit)}`),
    );
  }

  function backButton(): HTMLElement | null {
    if (!back) return null;
    const button = h('button', { type: 'button', id: 'back' }, back.label);
    button.addEventListener('click', back.go);
    return button;
  }

  function render(): void {
    const s = state.status;
    const running = toDeployment(s?.['running_deployment']);
    const released = toDeployment(s?.['released_deployment']);
    const last = toDeployment(s?.['last_finished_deployment']);
    const verdict = state.verdict ? VERDICT[state.verdict] : undefined;
    main.dataset['verdict'] = state.verdict ?? '';
    main.setAttribute('aria-busy', String(state.loading));
    // Re-rendering replaces the elements: the focus goes back to the same control afterwards.
    const active = document.activeElement;
    const focused = active instanceof HTMLInputElement ? active.value : null;
    const focusedId = active instanceof HTMLElement && active.id ? active.id : null;
    fill(
      main,
      h(
        'header',
        null,
        backButton(),
        h(
          'h1',
          null,
          state.app ?? 'Environment',
          state.environment ? h('span', { class: 'sub' }, ` / ${state.environment}`) : null,
        ),
        s?.['production_grade'] === true ? h('span', { class: 'badge info' }, 'production') : null,
        verdict ? h('span', { class: `badge ${verdict.tone}`, id: 'verdict' }, verdict.label) : null,
        windowSelector(),
      ),
      s
        ? h(
            'div',
            { class: 'grid' },
            card('URL', h('span', { class: 'mono', id: 'url' }, str(s['url']) ?? 'none')),
            card('Branch', h('span', { class: 'mono' }, str(s['branch']) ?? 'unknown')),
            card(
              'Last successful backup',
              h(
                'span',
                { id: 'backup' },
                state.backup === undefined ? '…' : state.backup ? ago(state.backup.created) : 'none found',
              ),
            ),
            card('Pending commits', String(num(s['pending_commits']) ?? 'unknown')),
          )
        : null,
      s
        ? h(
            'section',
            { 'aria-label': 'Deployments' },
            h('h2', null, 'Deployments'),
            h(
              'div',
              { class: 'grid' },
              deploymentCard('Released', released, 'released'),
              running ? deploymentCard('Running now', running, 'running') : null,
              last && last.uuid !== released?.uuid ? deploymentCard('Last finished', last, 'last') : null,
            ),
          )
        : null,
      feedSection('Error lines over time', 'histogram', state.histogram, (buckets) =>
        histogram(buckets, `Error log lines, last ${windowLabel()}`),
      ),
      feedSection('Metrics', 'metrics', state.metrics, (metrics) =>
        h('div', { class: 'grid' }, ...metrics.map(metricCard)),
      ),
      state.errors
        ? h(
            'section',
            { 'aria-label': 'Runtime errors', id: 'errors' },
            h('h2', null, `Most frequent errors, last ${windowLabel()}`),
            h('p', { id: 'error-count' }, `${state.errors.error_lines} errors in the window`),
            state.errors.top.length
              ? h(
                  'ul',
                  { class: 'findings' },
                  ...state.errors.top.map((t) =>
                    h('li', null, h('b', null, `${t.count}×`), h('span', { class: 'mono' }, t.message)),
                  ),
                )
              : null,
          )
        : null,
      state.findings
        ? h(
            'section',
            { 'aria-label': 'Findings' },
            h('h2', null, 'Findings'),
            h(
              'ul',
              { class: 'findings', id: 'findings' },
              ...state.findings.map((f) =>
                h(
                  'li',
                  { class: f.severity, 'data-severity': f.severity },
                  h('b', { 'aria-label': f.severity }, SEVERITY_MARK[f.severity]),
                  h('span', null, f.message),
                ),
              ),
            ),
          )
        : null,
      state.loading ? h('p', { class: 'note', role: 'status' }, `Reading the last ${state.window}…`) : null,
      state.message ? h('p', { class: 'error', role: 'alert' }, state.message) : null,
    );
    if (focused) main.querySelector<HTMLInputElement>(`input[value="${CSS.escape(focused)}"]`)?.focus();
    else if (focusedId) main.querySelector<HTMLElement>(`#${CSS.escape(focusedId)}`)?.focus();
  }

  function takeDiagnosis(out: Json): void {
    state.status = (out['status'] as Json | undefined) ?? state.status;
    state.verdict = str(out['verdict']);
    state.findings = Array.isArray(out['findings'])
      ? (out['findings'] as Json[])
          .filter((f) => typeof f['message'] === 'string')
          .map((f) => ({
            severity: f['severity'] === 'error' || f['severity'] === 'warning' ? f['severity'] : 'info',
            message: String(f['message']),
          }))
      : null;
    const errors = out['errors'] as Json | undefined;
    state.errors = errors
      ? {
          window_start: str(errors['window_start']) ?? '',
          // Error events grouped by signature; earlier servers counted error lines and listed the top ones.
          error_lines: num(errors['error_events']) ?? num(errors['error_lines']) ?? 0,
          top: (Array.isArray(errors['groups'])
            ? errors['groups']
            : Array.isArray(errors['top'])
              ? errors['top']
              : []
          )
            .slice(0, 3)
            .map((t: Json) => ({
              count: num(t['count']) ?? 0,
              message: str((t['example'] as Json | undefined)?.['message']) ?? '',
            })),
        }
      : null;
    const backup = out['last_successful_backup'] as Json | null | undefined;
    state.backup =
      backup && typeof backup['uuid'] === 'string'
        ? { uuid: backup['uuid'], created: str(backup['created']) }
        : null;
  }

  /**
   * Reads one section's tool. A server without the tool (an older divio-mcp) leaves the section out; a tool
   * error is shown in the section in the tool's words.
   */
  async function feed<T>(bridge: Bridge, name: string, args: Json, take: (out: Json) => T): Promise<Feed<T>> {
    let result: ToolResult;
    try {
      result = await bridge.callTool(name, args);
    } catch {
      return null;
    }
    if (result.isError || !result.structuredContent)
      return { note: textOf(result) || `${name} returned no data.` };
    return { data: take(result.structuredContent) };
  }

  function takeBuckets(out: Json): Bucket[] {
    const hist = out['histogram'] as Json | null | undefined;
    const buckets = Array.isArray(hist?.['buckets']) ? (hist['buckets'] as Json[]) : [];
    return buckets.map((b) => ({ start: str(b['from']) ?? '', count: num(b['count']) ?? 0 }));
  }

  function takeMetrics(out: Json): Metric[] {
    const metrics = Array.isArray(out['metrics']) ? (out['metrics'] as Json[]) : [];
    return metrics.map((m) => ({
      name: str(m['name']) ?? '?',
      title: str(m['title']) ?? str(m['name']) ?? '?',
      unit: str(m['unit']),
      latest: num(m['latest']),
      min: num(m['min']),
      max: num(m['max']),
      values: (Array.isArray(m['series']) ? (m['series'] as Json[]) : [])
        .map((p) => num(p['value']))
        .filter((v): v is number => v !== null),
    }));
  }

  let refreshRun = 0;

  /**
   * Re-reads everything that depends on the window, in parallel: the findings (diagnose_environment), the
   * error histogram (get_environment_logs with buckets) and the metrics (get_environment_metrics). The newest
   * request wins.
   */
  async function diagnose(bridge: Bridge, withDiagnosis = true): Promise<void> {
    if (!state.app || !state.environment) return;
    const run = ++refreshRun;
    const target = { app: state.app, environment: state.environment };
    state.loading = true;
    render();
    const [diagnosis, hist, metrics] = await Promise.all([
      withDiagnosis
        ? bridge
            .callTool('diagnose_environment', { ...target, since: state.window })
            .then((r) => ({ out: structured(r) }))
            .catch((error: unknown) => ({ error }))
        : null,
      feed(
        bridge,
        'get_environment_logs',
        { ...target, level: 'error', since: state.window, buckets: 24, limit: 1 },
        takeBuckets,
      ),
      feed(bridge, 'get_environment_metrics', { ...target, window: state.window, series: true }, takeMetrics),
    ]);
    if (run !== refreshRun) return;
    state.loading = false;
    state.histogram = hist;
    state.metrics = metrics;
    if (diagnosis && 'out' in diagnosis) {
      takeDiagnosis(diagnosis.out);
      state.message = null;
    } else if (diagnosis) {
      const error = diagnosis.error;
      state.message = `Could not read the findings: ${error instanceof Error ? error.message : String(error)}`;
    }
    render();
    void followRunning(bridge);
  }

  let following = false;

  /** While a deployment runs, its progress is re-read every few seconds; then the findings once more. */
  async function followRunning(bridge: Bridge): Promise<void> {
    if (following || !toDeployment(state.status?.['running_deployment'])) return;
    following = true;
    try {
      while (toDeployment(state.status?.['running_deployment'])) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        try {
          state.status = structured(
            await bridge.callTool('get_environment', { app: state.app, environment: state.environment }),
          );
        } catch {
          break;
        }
        render();
      }
    } finally {
      following = false;
    }
    void diagnose(bridge);
  }

  function takeResult(result: ToolResult, bridge: Bridge): void {
    if (result.isError || !result.structuredContent) {
      state.message = textOf(result) || 'The tool returned no data.';
      render();
      return;
    }
    const out = result.structuredContent;
    if (typeof out['verdict'] === 'string') {
      // From diagnose_environment: everything is here already.
      takeDiagnosis(out);
      state.app = str((out['status'] as Json | undefined)?.['app']) ?? state.app;
      state.environment = str((out['status'] as Json | undefined)?.['environment']) ?? state.environment;
      render();
      // The findings are here already; the charts for the same window come from the read tools.
      void diagnose(bridge, false);
      return;
    }
    // From get_environment: the status now, the findings next.
    state.status = out;
    state.app = str(out['app']) ?? state.app;
    state.environment = str(out['environment']) ?? state.environment;
    render();
    void diagnose(bridge);
  }

  render();
  return {
    show: (result) => takeResult(result, bridge),
    target: (args) => {
      state.app = str(args['app']) ?? state.app;
      state.environment = str(args['environment']) ?? state.environment;
      const since = str(args['since']);
      const known = WINDOWS.find((w) => w.value === since);
      if (known) state.window = known.value;
      render();
    },
  };
}
