import { quoteRef } from './index.js';

/** Keeps whole lines from the end of `lines` within `maxBytes`; says how many were dropped. */
export function capLinesFromEnd(
  lines: readonly string[],
  maxBytes: number,
): { kept: string[]; dropped: number } {
  let size = 0;
  let start = lines.length;
  while (start > 0) {
    const line = lines[start - 1] ?? '';
    const next = size + Buffer.byteLength(line, 'utf8') + 1;
    if (next > maxBytes) break;
    size = next;
    start--;
  }
  return { kept: lines.slice(start), dropped: start };
}

export function truncateLine(line: string, max = 2000): string {
  return line.length > max ? `${line.slice(0, max)}… [line cut at ${max} characters]` : line;
}

/** Sizes in binary units, named as such (1 MiB = 1,048,576 bytes), so nobody reads them as decimal MB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return 'unknown size';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function secondsBetween(
  start: string | null | undefined,
  end: string | null | undefined,
): number | null {
  if (!start || !end) return null;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) ? Math.round(ms / 1000) : null;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '?';
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  if (m < 60) return s ? `${m}m${s}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
}

/** "3h ago", "2d ago" relative to now. */
export function formatAge(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

export class TimeArgumentError extends Error {
  override name = 'TimeArgumentError';
}

// The API takes four-digit years only (its 400 names `from_ts`/`to_ts`, not the tool's argument; inferred from
// DRF's date-time parsing, which the sandbox follows). The 1970 lower bound is our choice: no Divio log is older.
const FIRST_TIME = Date.UTC(1970, 0, 1);
const LAST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

/** Accepts ISO 8601 or a relative duration like `15m`, `2h`, `3d`, `30s` (meaning "that long ago"). */
export function parseTimeArg(field: string, value: string, now = Date.now()): Date {
  const rel = /^(\d+)\s*(s|m|h|d|w)$/i.exec(value.trim());
  let t: number;
  if (rel) {
    const n = Number(rel[1]);
    const unit = (rel[2] ?? 's').toLowerCase();
    const factor = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[unit] ?? 1;
    t = now - n * factor * 1000;
  } else {
    t = Date.parse(value);
  }
  if (!Number.isFinite(t)) {
    throw new TimeArgumentError(
      `${field}: ${quoteRef(value)} is not a time. Use ISO 8601 (2026-11-23T10:00:00Z) or a relative duration such as 15m, 2h or 3d.`,
    );
  }
  if (t < FIRST_TIME || t > LAST_TIME) {
    throw new TimeArgumentError(
      `${field}: '${value}' is out of range (1970 to 9999). Use a recent ISO 8601 time or a relative duration such as 15m, 2h or 3d.`,
    );
  }
  return new Date(t);
}

/**
 * When a pre-signed download URL stops working, read from its own query parameters: the API's
 * backup-download objects carry no expiry (inferred from the reference's GetBackupDownloadServiceInstance
 * fields). Recognised: S3 signature v4 (`X-Amz-Date` + `X-Amz-Expires`, as Exoscale's S3 API signs too),
 * S3 v2 and the sandbox (`Expires`/`expires`, epoch seconds) and Azure SAS (`se`, ISO time). Null otherwise.
 */
export function presignedExpiry(link: string): string | null {
  let params: URLSearchParams;
  try {
    params = new URL(link).searchParams;
  } catch {
    return null;
  }
  const at = (ms: number) => (Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null);
  const amzDate = params.get('X-Amz-Date');
  const amzExpires = params.get('X-Amz-Expires');
  if (amzDate && amzExpires && /^\d+$/.test(amzExpires)) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (m) {
      const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
      return at(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s) + Number(amzExpires) * 1000);
    }
  }
  const epoch = params.get('Expires') ?? params.get('expires');
  if (epoch && /^\d{1,12}$/.test(epoch)) return at(Number(epoch) * 1000);
  const se = params.get('se');
  if (se) return at(Date.parse(se));
  return null;
}
