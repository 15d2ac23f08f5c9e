import type { Ctx, Result } from './http.js';
import type { LogEntry } from './logs.js';
import type { Environment } from './state.js';
import { HttpError, parseIsoUtc } from './util.js';

/*
 * Environment logs with an opaque cursor. The cursor encodes a boundary position p in the
 * environment's time-ordered log array: `search_before=p` returns the newest matching entries
 * before p, `search_after=p` the oldest matching entries at or after p. A page spanning [lo, hi)
 * links `previous` to search_before=lo and `next` to search_after=hi. Both links are always
 * present (inferred: the CLI's tail loop never checks `next` for null, and export-logs stops when
 * `previous` repeats the URL it just fetched). The encoding itself is not documented; this one is ours.
 */

const DATETIME_MSG =
  'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].';

export function encodeCursor(p: number): string {
  return Buffer.from(`sbx1:${p}`).toString('base64url');
}

function decodeCursor(raw: string): number | null {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const m = /^sbx1:(\d+)$/.exec(text);
  return m ? Number(m[1]) : null;
}

function parseTs(raw: string | null): number | null | undefined {
  if (raw === null) return undefined;
  if (!/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/.test(raw)) return null;
  // Zone-less values are UTC, never the host's local time (see parseIsoUtc).
  const ms = parseIsoUtc(raw);
  return Number.isNaN(ms) ? null : ms;
}

/** first index whose ms is >= (strict=false) or > (strict=true) the bound */
function lowerBound(logs: LogEntry[], bound: number, strict: boolean): number {
  let lo = 0;
  let hi = logs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const ms = logs[mid]?.ms ?? 0;
    if (strict ? ms <= bound : ms < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An integer query parameter in [min, max] (DRF's IntegerField messages); `fallback` when absent. */
function intParam(
  q: URLSearchParams,
  name: string,
  min: number,
  max: number,
  fallback: number,
  fail: (f: string, m: string) => void,
): number {
  const raw = q.get(name);
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw.trim())) {
    fail(name, 'A valid integer is required.');
    return fallback;
  }
  const n = Number.parseInt(raw, 10);
  if (n < min) fail(name, `Ensure this value is greater than or equal to ${min}.`);
  else if (n > max) fail(name, `Ensure this value is less than or equal to ${max}.`);
  return n;
}

/** The parameters GetEnvironmentLogs and GetEnvironmentLogsOccurrence share (the API reference lists the same). */
function filterParams(q: URLSearchParams, fail: (f: string, m: string) => void) {
  const search = q.get('search_query');
  if (search !== null) {
    if (search.length < 3) fail('search_query', 'Ensure this field has at least 3 characters.');
    else if (search.length > 32) fail('search_query', 'Ensure this field has no more than 32 characters.');
  }
  const from = parseTs(q.get('from_ts'));
  if (from === null) fail('from_ts', DATETIME_MSG);
  const to = parseTs(q.get('to_ts'));
  if (to === null) fail('to_ts', DATETIME_MSG);
  for (const f of ['service', 'container', 'action', 'version']) {
    if (q.get(f) === '') fail(f, 'This field may not be blank.');
  }
  const service = q.get('service');
  const needle = search?.toLowerCase();
  // `container`, `action` and `version` are accepted but our entries carry no such fields: ignored.
  // inferred: the search is a case-insensitive substring match
  const matches = (e: LogEntry) =>
    (!service || e.service === service) && (!needle || e.message.toLowerCase().includes(needle));
  return { from, to, matches };
}

/**
 * GetEnvironmentLogsOccurrence: matching entries counted in `number_of_buckets` (1..30, default 30) equal time
 * ranges of [from_ts, to_ts]. The reference collapses the `occurrences` items; their shape here
 * (`{from_ts, to_ts, count}`, oldest first) is inferred, and so is the window when from_ts or to_ts is left out
 * (the 24 hours up to now).
 */
export function environmentLogsOccurrence(ctx: Ctx, env: Environment): Result {
  const q = ctx.query;
  const errors: Record<string, string[]> = {};
  const fail = (f: string, m: string) => {
    errors[f] = [m];
  };
  const buckets = intParam(q, 'number_of_buckets', 1, 30, 30, fail);
  const { from, to, matches } = filterParams(q, fail);
  if (Object.keys(errors).length > 0) throw new HttpError(400, errors);
  const now = ctx.state.now();
  const end = to ?? now;
  const start = from ?? end - 24 * 3_600_000;
  // inferred: DRF-style object-level error for an empty window
  if (start >= end) throw new HttpError(400, { non_field_errors: ['from_ts must be earlier than to_ts.'] });
  const logs = ctx.state.logsFor(env.uuid);
  const width = (end - start) / buckets;
  const occurrences = [];
  for (let b = 0; b < buckets; b++) {
    const lo = start + b * width;
    const hi = b === buckets - 1 ? end : start + (b + 1) * width;
    // lines newer than the sandbox clock have not been written yet
    const stop = lowerBound(logs, Math.min(hi, now + 1), false);
    let count = 0;
    for (let i = lowerBound(logs, lo, false); i < stop; i++) {
      const e = logs[i];
      if (e && matches(e)) count++;
    }
    occurrences.push({ from_ts: new Date(lo).toISOString(), to_ts: new Date(hi).toISOString(), count });
  }
  return { status: 200, body: { occurrences } };
}

export function environmentLogs(ctx: Ctx, env: Environment): Result {
  const q = ctx.query;
  const errors: Record<string, string[]> = {};
  const fail = (f: string, m: string) => {
    errors[f] = [m];
  };

  const limit = intParam(q, 'limit', 1, 1000, 1000, fail);
  const { from, to, matches } = filterParams(q, fail);
  for (const f of ['search_after', 'search_before']) {
    if (q.get(f) === '') fail(f, 'This field may not be blank.');
  }
  let after: number | null = null;
  let before: number | null = null;
  const rawAfter = q.get('search_after');
  const rawBefore = q.get('search_before');
  if (rawAfter) {
    after = decodeCursor(rawAfter);
    if (after === null) fail('search_after', 'Invalid cursor.');
  }
  if (rawBefore) {
    before = decodeCursor(rawBefore);
    if (before === null) fail('search_before', 'Invalid cursor.');
  }
  if (Object.keys(errors).length > 0) throw new HttpError(400, errors);

  const logs = ctx.state.logsFor(env.uuid);
  const now = ctx.state.now();
  const upperMs = Math.min(to ?? now, now);
  const L = from === undefined || from === null ? 0 : lowerBound(logs, from, false);
  const U = Math.max(L, lowerBound(logs, upperMs, true));

  const picked: number[] = [];
  let lo: number;
  let hi: number;
  if (after !== null) {
    const startAt = Math.max(after, L);
    let i = startAt;
    for (; i < U && picked.length < limit; i++) {
      const e = logs[i];
      if (e && matches(e)) picked.push(i);
    }
    lo = after;
    hi = picked.length >= limit ? i : Math.max(U, after);
  } else {
    // inferred (the CLI's `cloud.show_log` prints pages in order, Divio's `export-logs.py` reverses them):
    // with no cursor the first page holds the newest entries, listed oldest-first
    const startAt = before !== null ? Math.min(before, U) : U;
    let i = startAt - 1;
    for (; i >= L && picked.length < limit; i--) {
      const e = logs[i];
      if (e && matches(e)) picked.unshift(i);
    }
    lo = picked.length >= limit ? i + 1 : Math.min(L, startAt);
    hi = startAt;
  }

  const link = (key: 'search_after' | 'search_before', p: number) => {
    const params = new URLSearchParams(q);
    params.delete('search_after');
    params.delete('search_before');
    params.set(key, encodeCursor(p));
    return `${ctx.origin}${ctx.path}?${params.toString()}`;
  };
  return {
    status: 200,
    body: {
      next: link('search_after', hi),
      previous: link('search_before', lo),
      results: picked.map((i) => {
        const e = logs[i] as LogEntry;
        return { timestamp: new Date(e.ms).toISOString(), service: e.service, message: e.message };
      }),
    },
  };
}
