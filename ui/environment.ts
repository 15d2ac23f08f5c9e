// Environment dashboard, linked from get_environment and diagnose_environment. It shows the tool's result,
// then completes it through read tools: diagnose_environment over the chosen window (findings, errors, last
// good backup) and, while a deployment runs, get_environment for its progress. It never writes.
import type { Bridge, Json, ToolResult } from './lib/bridge.js';
import { fill, h } from './lib/dom.js';
import { ago, duration, num, secondsBetween, shortId, str } from './lib/format.js';
import { startView, structured, textOf } from './lib/view.js';

interface Deployment {
  uuid: string;
  status: string | null;
  success: boolean | null;
  percent: number | null;
  started_at: string | null;
  ended_at: string | null;
  git_commit: string | null;
}

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

const main = document.getElementById('app') as HTMLElement;
const state: {
  app: string | null;
  environment: string | null;
  status: Json | null;
  verdict: string | null;
  findings: Finding[] | null;
  errors: { window_start: string; error_lines: number; top: { count: number; message: string }[] } | null;
  backup: { uuid: string; created: string | null } | null | undefined;
  window: Window;
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
  loading: false,
  message: null,
};

function toDeployment(value: unknown): Deployment | null {
  if (!value || typeof value !== 'object') return null;
  const d = value as Json;
  const uuid = str(d['uuid']);
  if (!uuid) return null;
  return {
    uuid,
    status: str(d['status']),
    success: typeof d['success'] === 'boolean' ? d['success'] : null,
    percent: num(d['percent']),
    started_at: str(d['started_at']),
    ended_at: str(d['ended_at']),
    git_commit: str(d['git_commit']),
  };
}

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
        void diagnose(currentBridge);
      });
      return h('label', null, input, h('span', null, w.label));
    }),
  );
}

function render(): void {
  const s = state.status;
  const running = toDeployment(s?.['running_deployment']);
  const released = toDeployment(s?.['released_deployment']);
  const last = toDeployment(s?.['last_finished_deployment']);
  const verdict = state.verdict ? VERDICT[state.verdict] : undefined;
  main.dataset['verdict'] = state.verdict ?? '';
  main.setAttribute('aria-busy', String(state.loading));
  const focused = document.activeElement instanceof HTMLInputElement ? document.activeElement.value : null;
  fill(
    main,
    h(
      'header',
      null,
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
    state.errors
      ? h(
          'section',
          { 'aria-label': 'Runtime errors', id: 'errors' },
          h(
            'h2',
            null,
            `Runtime errors, last ${WINDOWS.find((w) => w.value === state.window)?.label ?? state.window}`,
          ),
          h('p', null, `${state.errors.error_lines} error lines`),
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
        error_lines: num(errors['error_lines']) ?? 0,
        top: (Array.isArray(errors['top']) ? (errors['top'] as Json[]) : []).slice(0, 3).map((t) => ({
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

let diagnoseRun = 0;

/** Re-reads the findings over the chosen window; the newest request wins. */
async function diagnose(bridge: Bridge): Promise<void> {
  if (!state.app || !state.environment) return;
  const run = ++diagnoseRun;
  state.loading = true;
  render();
  try {
    const result = await bridge.callTool('diagnose_environment', {
      app: state.app,
      environment: state.environment,
      since: state.window,
    });
    if (run !== diagnoseRun) return;
    takeDiagnosis(structured(result));
    state.message = null;
  } catch (error) {
    if (run !== diagnoseRun) return;
    state.message = `Could not read the findings: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    if (run === diagnoseRun) state.loading = false;
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
    void followRunning(bridge);
    return;
  }
  // From get_environment: the status now, the findings next.
  state.status = out;
  state.app = str(out['app']) ?? state.app;
  state.environment = str(out['environment']) ?? state.environment;
  render();
  void diagnose(bridge);
}

const currentBridge = startView('environment', main);
currentBridge.onToolInput = (args) => {
  state.app = str(args['app']) ?? state.app;
  state.environment = str(args['environment']) ?? state.environment;
  const since = str(args['since']);
  const known = WINDOWS.find((w) => w.value === since);
  if (known) state.window = known.value;
  render();
};
currentBridge.onToolResult = (result) => takeResult(result, currentBridge);
render();
