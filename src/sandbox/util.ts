import { createHash } from 'node:crypto';

// Object IDs. Responses captured from the live API (the public test repository mebdivio/cdtest1, files
// `deploy.json` and `environment.json`) and the service-instance-backup example of Divio's "use the API" how-to
// carry IDs such as `efrlmsafhjeb5htwozkc2sgbd4`: 26 lowercase RFC 4648 base32 characters, i.e. a 128-bit UUID
// (130 bits, the last two zero) in another spelling. The sandbox issues exactly that shape. On input it also
// accepts the dashed (or undashed) hex spelling of the same 128 bits, as Django's UUIDField does; whether the
// live API accepts hex is not established (inferred), and the server never relies on it. Both spellings
// normalise to the base32 form, which is the key of every map in the state.

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const BASE32_ID_RE = /^[a-z2-7]{25}[aeimquy4]$/;
const HEX_UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

function hexOfId(id: string): string {
  let acc = 0n;
  for (const ch of id) acc = (acc << 5n) | BigInt(BASE32.indexOf(ch));
  return (acc >> 2n).toString(16).padStart(32, '0');
}

/**
 * `derive` worked out once per key: every sandbox seeds the same names, so the hashes behind them are asked for
 * again and again (the map is bounded).
 */
function rememberedPerKey<T>(derive: (key: string) => T): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    if (known.has(key)) return known.get(key) as T;
    const value = derive(key);
    if (known.size >= 20_000) known.clear();
    known.set(key, value);
    return value;
  };
}

/** A v4-shaped 128-bit UUID derived from a name, in the live base32 spelling, so seeded objects are stable. */
export const uuidFromName = rememberedPerKey((name: string): string => {
  const h = createHash('sha1').update(`divio-sandbox:${name}`).digest();
  const b = Buffer.from(h.subarray(0, 16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  return base32(b);
});

/** The dashed lowercase hex spelling of a base32 ID (the same 128 bits), e.g. for tests of hex input. */
export function dashedUuid(id: string): string {
  const key = normaliseUuid(id);
  if (!key) throw new Error(`not an object ID: ${id}`);
  const x = hexOfId(key);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The internal key (base32) of an ID given as base32 or as dashed/undashed hex; null for anything else, which
 * the callers answer with DRF's "not a valid UUID" 400 (filters, bodies) or 404 (paths). Base32 is accepted in
 * lowercase only, the only spelling ever seen live (inferred: whether the API folds case is not known).
 */
export function normaliseUuid(value: string): string | null {
  if (BASE32_ID_RE.test(value)) return value;
  if (!HEX_UUID_RE.test(value)) return null;
  return base32(Buffer.from(value.replace(/-/g, ''), 'hex'));
}

/** A 32-bit number derived from a string (the seeds of the PRNG below). */
export const hashSeed = rememberedPerKey((s: string): number =>
  createHash('sha1').update(s).digest().readUInt32LE(0),
);

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
