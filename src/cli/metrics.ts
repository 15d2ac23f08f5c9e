import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ClientObserver, HttpMethod } from '../client/index.js';
import type { ConfirmationOutcome, ToolOutcome, ToolTelemetry } from '../mcp/registry.js';

/** Why the HTTP transport refused a request before running it (see http.ts). */
export type RejectionReason = 'rate_limit' | 'client_calls' | 'total_calls';

/*
 * Path segments the Divio API uses as names (collections and sub-resources of the operations this server
 * calls, e.g. `ListBackups`, `GetDeploymentLogs`, `GetCurrentUser` in the API reference). Every other segment
 * is an object ID, a slug or something unexpected, and becomes `{id}`: an allowlist, so no ID, slug or other
 * value from a request ever becomes a label (and the label set stays bounded).
 */
const NAMED_SEGMENTS = new Set([
  'apps',
  'iam',
  'v3',
  'me',
  'organisations',
  'applications',
  'environments',
  'deployments',
  'logs',
  'backups',
  'service-instances',
  'service-instance-backups',
  'backup-restores',
  'service-instance-backup-restores',
  'backup-downloads',
  'backup-download-service-instances',
  'environment-variables',
  'domains',
  'cronjobs',
  'regions',
  'services',
]);

/** The path template of an API path: `/apps/v3/backups/{id}/` for `/apps/v3/backups/4c5e.../`; query dropped. */
export function pathTemplate(apiPath: string): string {
  const pathname = apiPath.split(/[?#]/, 1)[0] ?? '';
  const segments = pathname.split('/');
  // More segments than any Divio path has: one bucket, so a crafted path cannot grow the label set.
  if (segments.length > 8) return '{other}';
  return segments.map((s) => (s === '' || NAMED_SEGMENTS.has(s) ? s : '{id}')).join('/');
}

const METHODS = new Set<string>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The Prometheus metrics of one server process, on a registry of its own (not prom-client's global one, so
 * two servers in one test process count separately). It is the observer the Divio client reports exchanges
 * to, the telemetry the tool registry reports calls to, and what the HTTP transport reports refusals to.
 */
export class Metrics implements ClientObserver, ToolTelemetry {
  readonly registry = new Registry();
  readonly #toolCalls: Counter<'tool' | 'outcome'>;
  readonly #toolSeconds: Histogram<'tool'>;
  readonly #apiRequests: Counter<'method' | 'path' | 'status'>;
  readonly #apiSeconds: Histogram<'method' | 'path'>;
  readonly #apiRetries: Counter<'method' | 'path'>;
  readonly #confirmations: Counter<'tool' | 'outcome'>;
  readonly #rejections: Counter<'reason'>;
  readonly #waits: Gauge<'tool'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#toolCalls = new Counter({
      name: 'divio_mcp_tool_calls_total',
      help: 'Tool calls answered, by tool and outcome (ok, error, confirmation_required, input_required).',
      labelNames: ['tool', 'outcome'],
      registers,
    });
    this.#toolSeconds = new Histogram({
      name: 'divio_mcp_tool_call_duration_seconds',
      help: 'Time from a tool call arriving to its answer, including waits for long operations.',
      labelNames: ['tool'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#apiRequests = new Counter({
      name: 'divio_mcp_api_requests_total',
      help: 'HTTP exchanges with the Divio API, by method, path template and status (or network, timeout, cancelled).',
      labelNames: ['method', 'path', 'status'],
      registers,
    });
    this.#apiSeconds = new Histogram({
      name: 'divio_mcp_api_request_duration_seconds',
      help: 'Duration of one HTTP exchange with the Divio API, by method and path template.',
      labelNames: ['method', 'path'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#apiRetries = new Counter({
      name: 'divio_mcp_api_retries_total',
      help: 'Divio API requests sent again after a retryable failure (GET only), by method and path template.',
      labelNames: ['method', 'path'],
      registers,
    });
    this.#confirmations = new Counter({
      name: 'divio_mcp_confirmations_total',
      help: 'Confirmation gate decisions for write tools, by tool and outcome.',
      labelNames: ['tool', 'outcome'],
      registers,
    });
    this.#rejections = new Counter({
      name: 'divio_mcp_http_rejections_total',
      help: 'HTTP requests refused before running, by reason (rate_limit: 429 per-client rate; client_calls: 429 per-client concurrent calls; total_calls: 503 server-wide concurrent calls).',
      labelNames: ['reason'],
      registers,
    });
    this.#waits = new Gauge({
      name: 'divio_mcp_waits_in_flight',
      help: 'Tool calls currently waiting on a long Divio operation (deploy, backup, restore, download), by tool.',
      labelNames: ['tool'],
      registers,
    });
    for (const reason of ['rate_limit', 'client_calls', 'total_calls'] as const)
      this.#rejections.inc({ reason }, 0);
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  // ClientObserver

  exchange(method: HttpMethod, apiPath: string, status: number | string, seconds: number): void {
    const m = METHODS.has(method) ? method : 'OTHER';
    const path = pathTemplate(apiPath);
    this.#apiRequests.inc({ method: m, path, status: String(status) });
    this.#apiSeconds.observe({ method: m, path }, seconds);
  }

  retry(method: HttpMethod, apiPath: string): void {
    this.#apiRetries.inc({ method: METHODS.has(method) ? method : 'OTHER', path: pathTemplate(apiPath) });
  }

  // ToolTelemetry (tool names come from the registry only, never from a request)

  toolCall(tool: string, outcome: ToolOutcome, seconds: number): void {
    this.#toolCalls.inc({ tool, outcome });
    this.#toolSeconds.observe({ tool }, seconds);
  }

  confirmation(tool: string, outcome: ConfirmationOutcome): void {
    this.#confirmations.inc({ tool, outcome });
  }

  waitStarted(tool: string): () => void {
    this.#waits.inc({ tool });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#waits.dec({ tool });
    };
  }

  // HTTP transport

  rejected(reason: RejectionReason): void {
    this.#rejections.inc({ reason });
  }
}
