// Fleet board, linked from get_fleet_overview: one tile per application environment, coloured by health and
// sorted worst first; a tile opens that environment's dashboard in place (read through get_environment), and
// "Back to the fleet" returns to the tiles. It never writes.
import type { Json, ToolResult } from './lib/bridge.js';
import { type Dashboard, dashboard } from './lib/dashboard.js';
import { fill, h } from './lib/dom.js';
import { duration, num, str } from './lib/format.js';
import { startView, textOf } from './lib/view.js';

type Health = 'error' | 'warning' | 'ok' | 'unknown';

interface Tile {
  app: string;
  environment: string;
  health: Health;
  reasons: string[];
  facts: string[];
}

const RANK: Record<Health, number> = { error: 0, warning: 1, unknown: 2, ok: 3 };
const MARK: Record<Health, string> = {
  error: '✕ problem',
  warning: '! attention',
  unknown: '? unknown',
  ok: '✓ ok',
};

const main = document.getElementById('app') as HTMLElement;
const bridge = startView('fleet', main);
let tiles: Tile[] = [];
let title = 'Fleet';
let note: string | null = null;
let message: string | null = null;
let opened: { key: string; view: Dashboard } | null = null;

/** The overview's status, read as a tile's health. */
function healthOf(value: unknown): Health {
  if (value === 'failing') return 'error';
  if (value === 'degraded') return 'warning';
  if (value === 'healthy') return 'ok';
  return 'unknown';
}

/** One row of get_fleet_overview, read field by field: anything missing is simply not shown. */
function tileOf(row: Json): Tile | null {
  const app = str(row['app']);
  const environment = str(row['environment']);
  if (!app || !environment) return null;
  const reasons = (Array.isArray(row['problems']) ? (row['problems'] as Json[]) : [])
    .map((p) => str(p?.['message']))
    .filter((p): p is string => p !== null);
  const facts: string[] = [];
  if (row['production_grade'] === true) facts.push('production');
  const deploy = row['last_deploy'] as Json | null | undefined;
  const result = str(deploy?.['result']);
  if (result)
    facts.push(
      result === 'failed' && deploy?.['live'] === false
        ? 'last deploy failed (not live)'
        : `last deploy ${result}`,
    );
  const errors = row['errors'] as Json | null | undefined;
  const count = num(errors?.['count']);
  if (count !== null) facts.push(`${errors?.['at_least'] === true ? '≥' : ''}${count} errors`);
  const backup = row['last_successful_backup'] as Json | null | undefined;
  const age = num(backup?.['age_hours']);
  if (backup === null) facts.push('no good backup');
  else if (age !== null) facts.push(`backup ${duration(age * 3600)} old`);
  const unprovisioned = Array.isArray(row['unprovisioned_services'])
    ? row['unprovisioned_services'].length
    : 0;
  if (unprovisioned > 0) facts.push(`${unprovisioned} service(s) not provisioned`);
  return { app, environment, health: healthOf(row['status']), reasons, facts };
}

function renderBoard(): void {
  opened = null;
  const counts = { error: 0, warning: 0, ok: 0, unknown: 0 };
  for (const t of tiles) counts[t.health]++;
  main.dataset['tiles'] = String(tiles.length);
  fill(
    main,
    h(
      'header',
      null,
      h('h1', null, title),
      h(
        'span',
        { class: 'sub', id: 'counts' },
        `${counts.error} with problems, ${counts.warning} need attention, ${counts.ok} ok${counts.unknown ? `, ${counts.unknown} unknown` : ''}`,
      ),
    ),
    h(
      'ul',
      { class: 'tiles', id: 'tiles', 'aria-label': 'Environments, worst first' },
      ...tiles.map((t) => {
        const button = h(
          'button',
          {
            type: 'button',
            class: `card tile ${t.health}`,
            'data-app': t.app,
            'data-environment': t.environment,
            'data-health': t.health,
            'aria-label': `${t.app} / ${t.environment}: ${MARK[t.health]}. ${[...t.reasons, ...t.facts].join('. ')}. Open its dashboard.`,
          },
          h('div', { class: 'v' }, `${t.app} / ${t.environment}`),
          h('div', { class: `k ${t.health}` }, MARK[t.health]),
          ...t.reasons.slice(0, 2).map((r) => h('div', { class: 'sub' }, r)),
          t.facts.length ? h('div', { class: 'sub' }, t.facts.join(' · ')) : null,
        );
        button.addEventListener('click', () => void open(t));
        return h('li', null, button);
      }),
    ),
    tiles.length === 0 ? h('p', null, 'No environments.') : null,
    note ? h('p', { class: 'note' }, note) : null,
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
  );
}

async function open(t: Tile): Promise<void> {
  const key = `${t.app}/${t.environment}`;
  const view = dashboard(main, bridge, {
    label: '← Back to the fleet',
    go: () => {
      renderBoard();
      main
        .querySelector<HTMLButtonElement>(
          `button[data-app="${CSS.escape(t.app)}"][data-environment="${CSS.escape(t.environment)}"]`,
        )
        ?.focus();
    },
  });
  opened = { key, view };
  view.target({ app: t.app, environment: t.environment });
  main.querySelector<HTMLButtonElement>('#back')?.focus();
  let result: ToolResult;
  try {
    result = await bridge.callTool('get_environment', { app: t.app, environment: t.environment });
  } catch (error) {
    result = { isError: true, content: [{ type: 'text', text: String(error) }] };
  }
  if (opened?.key === key) view.show(result);
}

bridge.onToolResult = (result) => {
  if (result.isError || !result.structuredContent) {
    message = textOf(result) || 'The fleet overview returned no data.';
    renderBoard();
    return;
  }
  const out = result.structuredContent;
  const rows = (
    Array.isArray(out['environments']) ? out['environments'] : Array.isArray(out['rows']) ? out['rows'] : []
  ) as Json[];
  // Worst first, keeping the server's order among equals.
  tiles = rows
    .map(tileOf)
    .filter((t): t is Tile => t !== null)
    .map((t, i) => ({ t, i }))
    .sort((a, b) => RANK[a.t.health] - RANK[b.t.health] || a.i - b.i)
    .map((x) => x.t);
  title = str(out['organisation']) ? `Fleet of ${str(out['organisation'])}` : 'Fleet';
  note = str(out['note']);
  message = null;
  renderBoard();
};
renderBoard();
