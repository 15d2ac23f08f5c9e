import { createHash } from 'node:crypto';

/** A v4-shaped UUID derived from a name, so seeded objects are stable across runs. */
export function uuidFromName(name: string): string {
  const h = createHash('sha1').update(`divio-sandbox:${name}`).digest();
  const b = Buffer.from(h.subarray(0, 16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function hashSeed(s: string): number {
  const h = createHash('sha1').update(s).digest();
  return h.readUInt32LE(0);
}

/** Deterministic PRNG (mulberry32). Returns a function giving floats in [0, 1). */
export function prng(seed: number | string): () => number {
  let a = (typeof seed === 'string' ? hashSeed(seed) : seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rand: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new Error('pick from empty list');
  return item;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Django's UUIDField accepts dashed or undashed hex; we normalise to the dashed lowercase form. */
export function normaliseUuid(value: string): string | null {
  if (!UUID_RE.test(value)) return null;
  const x = value.replace(/-/g, '').toLowerCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export const notFound = (): HttpError => new HttpError(404, { detail: 'Not found.' });
export const fieldError = (field: string, message: string): HttpError =>
  new HttpError(400, { [field]: [message] });
export const nonFieldError = (message: string): HttpError =>
  new HttpError(400, { non_field_errors: [message] });

const ISO_DATETIME = /^(\d{4}-\d\d-\d\d)(?:[T ](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(Z|[+-]\d\d:?\d\d)?)?$/i;

/**
 * Epoch ms of an ISO-8601 date or date-time (NaN if malformed), independent of the host's time zone.
 * Zone-less values are read as UTC (inferred: Django's default TIME_ZONE is 'UTC'; Divio's setting is not known).
 */
export function parseIsoUtc(raw: string): number {
  const m = ISO_DATETIME.exec(raw);
  if (!m) return Number.NaN;
  const [, date, time, zone] = m;
  if (!time) return Date.parse(`${date}T00:00:00Z`);
  let z = (zone ?? 'Z').toUpperCase();
  if (z.length === 5) z = `${z.slice(0, 3)}:${z.slice(3)}`;
  return Date.parse(`${date}T${time}${z}`);
}
