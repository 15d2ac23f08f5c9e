/** "3 min", "2 h 5 min", "4 days": a duration a person reads at a glance. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return 'unknown';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

export function secondsBetween(
  from: string | null | undefined,
  to: string | number | null | undefined,
): number | null {
  if (!from) return null;
  const start = Date.parse(from);
  const end = typeof to === 'number' ? to : to ? Date.parse(to) : Number.NaN;
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, (end - start) / 1000) : null;
}

/** "5 min ago" for a past time; "unknown" when there is none. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  const s = secondsBetween(iso, now);
  return s === null ? 'unknown' : `${duration(s)} ago`;
}

/** IDs are long; the first characters tell them apart on a screen (the full ID stays in the title). */
export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : 'none';
}

export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
