import { prng } from './util.js';

/**
 * One fault rule. A rule matches a request by method (optional, any if omitted) and path prefix
 * (optional, `/` if omitted). The first matching rule with `count` left applies; each application
 * uses up one of its `count` (unlimited when omitted). A rule may combine `latencyMs` with one effect.
 */
export interface FaultRule {
  method?: string;
  path?: string;
  /** matches only paths that also contain this, e.g. `/logs` for any deployment's log */
  pathContains?: string;
  count?: number;
  /** added delay before anything else happens */
  latencyMs?: number;
  /** answer with this status instead of handling the request (400: a DRF validation answer, e.g. to test how Divio's own messages are shown) */
  error?: { status: 400 | 403 | 404 | 405 | 500 | 502 | 503; body?: unknown };
  /** 429 with `Retry-After: seconds` and DRF's throttle body */
  rateLimit?: { retryAfterSeconds: number };
  /** destroy the socket without any response; the request is not handled */
  reset?: boolean;
  /** handle the request fully (side effects happen), then destroy the socket instead of answering */
  resetAfterHandling?: boolean;
  /** handle the request fully (side effects happen), then answer this status instead of the real answer */
  errorAfterHandling?: { status: 500 | 502 | 503 | 504; body?: unknown };
  /** send headers, then the body in pieces spread over this many ms */
  slowBody?: { durationMs: number; chunks?: number };
  /**
   * handle the request fully (side effects happen), then answer its 2xx status (200 for an empty 204) with a
   * truncated JSON body; a request the sandbox refused keeps its error answer
   */
  malformedJson?: boolean;
  /** rules that become active (ahead of the others) once this rule has applied, e.g. failing lookups after a write */
  afterwards?: FaultRule[];
}

export interface FaultConfig {
  rules?: FaultRule[];
  /** fraction 0..1 of matching requests (all requests unless errorRatePath is set) that fail with errorRateStatus */
  errorRate?: number;
  errorRateSeed?: number;
  errorRateStatus?: 500 | 502 | 503;
  errorRatePath?: string;
}

export interface FaultController {
  /** replace the active faults: either a list of rules or a full config */
  set(faults: FaultRule | FaultRule[] | FaultConfig): void;
  /** add one rule after the existing ones */
  add(rule: FaultRule): void;
  reset(): void;
  /** active rules with their remaining counts (for tests) */
  readonly rules: readonly FaultRule[];
}

export interface AppliedFault {
  latencyMs: number;
  effect:
    | { kind: 'none' }
    | { kind: 'error'; status: number; body: unknown }
    | { kind: 'rateLimit'; retryAfterSeconds: number }
    | { kind: 'reset' }
    | { kind: 'resetAfterHandling' }
    | { kind: 'errorAfterHandling'; status: number; body: unknown }
    | { kind: 'slowBody'; durationMs: number; chunks: number }
    | { kind: 'malformedJson' };
}

export class Faults implements FaultController {
  private active: FaultRule[] = [];
  private errorRate = 0;
  private errorRateStatus: 500 | 502 | 503 = 503;
  private errorRatePath = '/';
  private rand = prng(1);

  get rules(): readonly FaultRule[] {
    return this.active;
  }

  set(faults: FaultRule | FaultRule[] | FaultConfig): void {
    this.reset();
    if (Array.isArray(faults)) {
      this.active = faults.map((f) => ({ ...f }));
      return;
    }
    if (isConfig(faults)) {
      this.active = (faults.rules ?? []).map((f) => ({ ...f }));
      this.errorRate = Math.min(1, Math.max(0, faults.errorRate ?? 0));
      this.errorRateStatus = faults.errorRateStatus ?? 503;
      this.errorRatePath = faults.errorRatePath ?? '/';
      this.rand = prng(faults.errorRateSeed ?? 1);
      return;
    }
    this.active = [{ ...faults }];
  }

  add(rule: FaultRule): void {
    this.active.push({ ...rule });
  }

  reset(): void {
    this.active = [];
    this.errorRate = 0;
    this.rand = prng(1);
  }

  /** Decide what happens to a request. Consumes counts. */
  match(method: string, path: string): AppliedFault | null {
    for (const rule of this.active) {
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!path.startsWith(rule.path ?? '/')) continue;
      if (rule.pathContains && !path.includes(rule.pathContains)) continue;
      if (rule.count !== undefined) {
        if (rule.count <= 0) continue;
        rule.count -= 1;
      }
      if (rule.afterwards) this.active.unshift(...rule.afterwards.map((f) => ({ ...f })));
      return { latencyMs: rule.latencyMs ?? 0, effect: effectOf(rule) };
    }
    if (this.errorRate > 0 && path.startsWith(this.errorRatePath) && this.rand() < this.errorRate) {
      return {
        latencyMs: 0,
        effect: { kind: 'error', status: this.errorRateStatus, body: errorBody(this.errorRateStatus) },
      };
    }
    return null;
  }
}

function isConfig(f: FaultRule | FaultConfig): f is FaultConfig {
  return 'rules' in f || 'errorRate' in f || 'errorRateSeed' in f || 'errorRateStatus' in f;
}

function errorBody(status: number): unknown {
  if (status === 403) return { detail: 'You do not have permission to perform this action.' }; // DRF's text
  // not DRF: gateway/server errors in front of Django come back as plain detail objects (inferred)
  if (status === 502) return { detail: 'Bad Gateway' };
  if (status === 503) return { detail: 'Service Unavailable' };
  if (status === 504) return { detail: 'Gateway Timeout' };
  if (status === 400) return { non_field_errors: ['Invalid data.'] };
  if (status === 404) return { detail: 'Not found.' }; // DRF's text
  if (status === 405) return { detail: 'Method "GET" not allowed.' }; // DRF's text for a GET
  return { detail: 'A server error occurred.' };
}

function effectOf(rule: FaultRule): AppliedFault['effect'] {
  if (rule.reset) return { kind: 'reset' };
  if (rule.error)
    return {
      kind: 'error',
      status: rule.error.status,
      body: rule.error.body ?? errorBody(rule.error.status),
    };
  if (rule.rateLimit) return { kind: 'rateLimit', retryAfterSeconds: rule.rateLimit.retryAfterSeconds };
  if (rule.resetAfterHandling) return { kind: 'resetAfterHandling' };
  if (rule.errorAfterHandling)
    return {
      kind: 'errorAfterHandling',
      status: rule.errorAfterHandling.status,
      body: rule.errorAfterHandling.body ?? errorBody(rule.errorAfterHandling.status),
    };
  if (rule.slowBody)
    return { kind: 'slowBody', durationMs: rule.slowBody.durationMs, chunks: rule.slowBody.chunks ?? 5 };
  if (rule.malformedJson) return { kind: 'malformedJson' };
  return { kind: 'none' };
}
