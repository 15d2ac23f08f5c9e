// Deploy progress, linked from deploy_environment. While the call runs the view follows the environment's
// running deployment through read tools (get_environment, get_deployment, get_deployment_log); the tool's
// result then settles the outcome. It never starts, confirms or repeats a deploy.
import type { Bridge, Json, ToolResult } from './lib/bridge.js';
import { type Deployment, toDeployment } from './lib/deployment.js';
import { fill, h } from './lib/dom.js';
import { duration, secondsBetween, shortId, str } from './lib/format.js';
import { startView, structured, textOf } from './lib/view.js';

type Phase = 'waiting' | 'running' | 'succeeded' | 'failed' | 'confirmation' | 'error' | 'cancelled';

const POLL_MS = 1500;
const LOG_TAIL = 15;

const main = document.getElementById('app') as HTMLElement;
const state: {
  app: string | null;
  environment: string | null;
  phase: Phase;
  deployment: Deployment | null;
  log: string[];
  excerpt: string[] | null;
  next: string | null;
  message: string | null;
  preview: { summary: string; details: Record<string, string> } | null;
  /** The tool's result has arrived: it, not polling, decides the outcome. */
  settled: boolean;
} = {
  app: null,
  environment: null,
  phase: 'waiting',
  deployment: null,
  log: [],
  excerpt: null,
  next: null,
  message: null,
  preview: null,
  settled: false,
};

function phaseOf(d: Deployment): Phase {
  return d.success === null ? 'running' : d.success ? 'succeeded' : 'failed';
}

const LABEL: Record<Phase, string> = {
  waiting: '… waiting for the deploy to start',
  running: '⟳ running',
  succeeded: '✓ succeeded',
  failed: '✕ failed',
  confirmation: '? waiting for confirmation',
  error: '✕ not started',
  cancelled: '– cancelled',
};
const TONE: Record<Phase, string> = {
  waiting: 'info',
  running: 'running',
  succeeded: 'ok',
  failed: 'failed',
  confirmation: 'info',
  error: 'failed',
  cancelled: 'info',
};

function percentOf(): number {
  const d = state.deployment;
  if (!d) return 0;
  if (d.success !== null) return 100;
  return Math.max(0, Math.min(100, Math.round(d.percent ?? 0)));
}

function fact(k: string, v: string, title?: string): HTMLElement {
  return h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v', title }, v));
}

function render(): void {
  const d = state.deployment;
  const percent = percentOf();
  main.dataset['phase'] = state.phase;
  main.dataset['percent'] = String(percent);
  const where = state.app && state.environment ? `${state.app} / ${state.environment}` : 'an environment';
  const elapsed = d ? secondsBetween(d.started_at, d.ended_at ?? Date.now()) : null;
  fill(
    main,
    h(
      'header',
      null,
      h('h1', null, 'Deploy ', h('span', { class: 'sub' }, where)),
      h('span', { class: `badge ${TONE[state.phase]}`, id: 'phase' }, LABEL[state.phase]),
    ),
    state.preview ? renderPreview(state.preview) : null,
    state.phase === 'confirmation'
      ? null
      : h(
          'section',
          { 'aria-label': 'Progress' },
          h(
            'div',
            {
              class: state.phase === 'failed' ? 'meter failed' : 'meter',
              role: 'progressbar',
              'aria-valuemin': 0,
              'aria-valuemax': 100,
              'aria-valuenow': percent,
              'aria-label': 'Deploy progress',
            },
            meterBar(percent),
          ),
          h(
            'div',
            { class: 'grid' },
            fact('Percent', `${percent} %`),
            fact('Phase', d?.status ?? (state.phase === 'waiting' ? 'not started yet' : 'unknown')),
            fact('Elapsed', elapsed === null ? '–' : duration(elapsed)),
            fact('Deployment', shortId(d?.uuid), d?.uuid),
            fact('Commit', d?.git_commit ? d.git_commit.slice(0, 10) : '–', d?.git_commit ?? undefined),
          ),
        ),
    // On failure the failing part below says more than the tail, which mostly repeats it.
    state.log.length && !(state.phase === 'failed' && state.excerpt?.length)
      ? h(
          'section',
          null,
          h('h2', null, `Build log, last ${state.log.length} lines`),
          h(
            'pre',
            { class: 'log', id: 'log', tabindex: 0, 'aria-label': 'Build log tail' },
            state.log.join('\n'),
          ),
        )
      : null,
    state.phase === 'succeeded'
      ? h('p', { class: 'ok', id: 'outcome', role: 'status' }, '✓ The deploy succeeded and is released.')
      : null,
    state.phase === 'failed'
      ? h(
          'section',
          { id: 'outcome', role: 'status' },
          h('h2', { class: 'failed' }, '✕ The deploy failed; the previous release keeps serving'),
          state.excerpt?.length
            ? h(
                'pre',
                { class: 'log', tabindex: 0, 'aria-label': 'Failing part of the build log' },
                state.excerpt.join('\n'),
              )
            : null,
        )
      : null,
    state.message
      ? h('p', { class: state.phase === 'error' ? 'error' : 'note', role: 'alert' }, state.message)
      : null,
    state.next ? h('p', { class: 'note' }, state.next) : null,
  );
}

function meterBar(percent: number): HTMLElement {
  const bar = h('div');
  bar.style.width = `${percent}%`;
  return bar;
}

function renderPreview(preview: { summary: string; details: Record<string, string> }): HTMLElement {
  return h(
    'section',
    { 'aria-label': 'What the deploy would do' },
    h('p', null, preview.summary),
    h(
      'dl',
      { class: 'grid' },
      ...Object.entries(preview.details).map(([k, v]) =>
        h('div', { class: 'card' }, h('dt', { class: 'k' }, k), h('dd', { class: 'v' }, v)),
      ),
    ),
    h(
      'p',
      { class: 'note' },
      'Nothing has been deployed. The assistant asks you to confirm before the deploy starts; this view cannot confirm it.',
    ),
  );
}

const FINAL: readonly Phase[] = ['succeeded', 'failed', 'confirmation', 'error', 'cancelled'];
let following = false;

/** Polls while the deploy runs; one loop at a time. */
async function follow(bridge: Bridge): Promise<void> {
  if (following) return;
  following = true;
  try {
    while (!FINAL.includes(state.phase) && state.app && state.environment) {
      try {
        await refresh(bridge);
        if (state.phase !== 'error') state.message = null;
      } catch (error) {
        // A refresh that fails leaves the last picture up; the tool's result still comes.
        state.message = `Could not refresh: ${error instanceof Error ? error.message : String(error)}`;
      }
      render();
      if (FINAL.includes(state.phase)) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    following = false;
  }
  await readLogTail(bridge);
}

async function refresh(bridge: Bridge): Promise<void> {
  let d = state.deployment;
  if (!d) {
    // Before the deploy starts (a confirmation may be pending) there is no running deployment yet.
    if (state.settled) return;
    const env = structured(
      await bridge.callTool('get_environment', { app: state.app, environment: state.environment }),
    );
    d = toDeployment(env['running_deployment']);
  } else {
    d = toDeployment(structured(await bridge.callTool('get_deployment', { deployment: d.uuid }))) ?? d;
  }
  // The tool's result may have settled the outcome meanwhile: a poll never overrides it.
  if (!d || FINAL.includes(state.phase)) return;
  state.deployment = d;
  state.phase = phaseOf(d);
  await readLogTail(bridge);
}

async function readLogTail(bridge: Bridge): Promise<void> {
  const d = state.deployment;
  if (!d) return;
  try {
    const log = structured(
      await bridge.callTool('get_deployment_log', { deployment: d.uuid, tail: LOG_TAIL }),
    );
    const lines = log['lines'];
    if (Array.isArray(lines)) state.log = lines.filter((l): l is string => typeof l === 'string');
  } catch {
    // The log tail is a nicety next to the phase and outcome; keep the last one.
  }
  render();
}

function settle(result: ToolResult, bridge: Bridge): void {
  state.settled = true;
  state.message = null;
  if (result.isError || !result.structuredContent) {
    state.phase = 'error';
    state.message = textOf(result) || 'The deploy tool returned no result.';
    render();
    return;
  }
  const envelope = result.structuredContent;
  const preview = envelope['preview'] as { summary?: unknown; details?: unknown } | null;
  if (envelope['confirmation_required'] === true) {
    state.phase = 'confirmation';
    state.preview = {
      summary: str(preview?.summary) ?? 'The deploy needs confirmation.',
      details: Object.fromEntries(
        Object.entries((preview?.details ?? {}) as Json).filter(
          (e): e is [string, string] => typeof e[1] === 'string',
        ),
      ),
    };
    render();
    return;
  }
  const out = (envelope['result'] ?? {}) as Json;
  state.app = str(out['app']) ?? state.app;
  state.environment = str(out['environment']) ?? state.environment;
  state.deployment = toDeployment(out['deployment']) ?? state.deployment;
  state.excerpt = Array.isArray(out['failure_excerpt'])
    ? out['failure_excerpt'].filter((l): l is string => typeof l === 'string')
    : null;
  state.next = str(out['next_step']);
  state.phase = state.deployment ? phaseOf(state.deployment) : 'error';
  render();
  // A deploy still running when the call stopped waiting is followed on; a finished one gets its last log lines.
  if (state.phase === 'running') void follow(bridge);
  else void readLogTail(bridge);
}

const bridge = startView('deploy', main);
bridge.onToolInput = (args) => {
  state.app = str(args['app']);
  state.environment = str(args['environment']);
  render();
  void follow(bridge);
};
bridge.onToolResult = (result) => settle(result, bridge);
bridge.onToolCancelled = (reason) => {
  state.settled = true;
  state.phase = 'cancelled';
  state.message = `The deploy call was cancelled${reason ? ` (${reason})` : ''}. If a deploy had started, it keeps running: ask for its status.`;
  render();
};
setInterval(() => {
  if (state.phase === 'running') render();
}, 1000);
render();
