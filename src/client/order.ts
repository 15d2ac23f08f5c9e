import type { z } from 'zod';
import type { DivioClient, Query } from './client.js';
import { NotFoundError } from './errors.js';
import type { Page } from './schemas.js';

// No source establishes the order of the backup, restore or download lists (only deployments' newest-first
// order has support: the CLI's `results[0]` in `cloud.py`). So the server sorts these objects by their own
// timestamps before it shows or picks one, and reads a "newest first" promise from whichever end of the
// list the API actually puts the newest objects.

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Microseconds since the epoch of an API timestamp (ISO 8601, with or without fractional seconds), or null.
 * Microseconds, because the live API sends six fractional digits (`2021-07-28T13:02:38.631704Z`) and two
 * objects made within one millisecond must still compare. A value without a zone is read as UTC (inferred:
 * Django's default `TIME_ZONE`).
 */
export function timestampMicros(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = ISO.exec(value.trim());
  if (!m) return null;
  const [, date, time, fraction, zone] = m;
  let z = (zone ?? 'Z').toUpperCase();
  if (z.length === 5) z = `${z.slice(0, 3)}:${z.slice(3)}`;
  const ms = Date.parse(`${date}T${time}${z}`);
  if (!Number.isFinite(ms)) return null;
  const micros = Number(`${fraction ?? ''}000000`.slice(0, 6));
  return ms * 1000 + micros;
}

/** Which timestamp orders each kind of object (the one every such object carries from its creation on). */
export const TIMESTAMPS = {
  /** GetBackup `created` */
  backup: (b: { created?: unknown }) => b.created,
  /** GetBackupRestore has one timestamp, `started_at` */
  restore: (r: { started_at?: unknown }) => r.started_at,
  /** GetBackupDownload has one timestamp, `started_at` */
  download: (d: { started_at?: unknown }) => d.started_at,
  /** GetBackupDownloadServiceInstance: `queued_at` is set first, `started_at` later */
  downloadPart: (x: { queued_at?: unknown; started_at?: unknown }) => x.queued_at ?? x.started_at,
} as const;

/**
 * A copy of `items`, newest first by `time`. An object without a readable timestamp sorts as the newest:
 * an operation that has no start time yet has not started, so it is younger than every one that has
 * (inferred). Equal times are ordered by ID, so the order is the same on every call.
 */
export function sortNewestFirst<T extends { uuid: string }>(
  items: readonly T[],
  time: (item: T) => unknown,
): T[] {
  const keyed = items.map((item) => ({ item, t: timestampMicros(time(item)) }));
  keyed.sort((a, b) => {
    if (a.t !== b.t) {
      if (a.t === null) return -1;
      if (b.t === null) return 1;
      return b.t - a.t;
    }
    return a.item.uuid < b.item.uuid ? -1 : a.item.uuid > b.item.uuid ? 1 : 0;
  });
  return keyed.map((k) => k.item);
}

/** The newest of `items` by `time`, or null for an empty list. */
export function newestOf<T extends { uuid: string }>(
  items: readonly T[],
  time: (item: T) => unknown,
): T | null {
  return sortNewestFirst(items, time)[0] ?? null;
}

// -------------------------------------------------------------------------------------------------------
// Lists read whole.

/** A list read page by page to the end, or until the page cap. */
export interface Listing<T> {
  items: T[];
  /** false when the read stopped at the cap with pages left: `items` is then not the whole list */
  complete: boolean;
  /** the API's `count` of the whole list, when it sent one */
  count: number | undefined;
}

/** Pages a whole-list read follows at most. With 100 asked per page that is 2,000 objects. */
export const WHOLE_LIST_MAX_PAGES = 20;
const ASKED_PAGE_SIZE = 100;

/**
 * Reads every page of a list by following `next` (same origin only), never assuming the `page_size` asked
 * for is honoured: a server that answers with smaller pages simply costs more requests, up to `maxPages`.
 */
export async function readWhole<T>(
  client: DivioClient,
  apiPath: string,
  query: Query,
  schema: z.ZodType<T>,
  signal?: AbortSignal,
  maxPages = WHOLE_LIST_MAX_PAGES,
): Promise<Listing<T>> {
  const first = client.listUrl(apiPath, { ...query, page_size: ASKED_PAGE_SIZE });
  return readWholeFrom(client, first, schema, signal, maxPages);
}

async function readWholeFrom<T>(
  client: DivioClient,
  firstUrl: string,
  schema: z.ZodType<T>,
  signal: AbortSignal | undefined,
  maxPages: number,
): Promise<Listing<T>> {
  let page = await client.getPageByUrl(firstUrl, schema, signal);
  const items: T[] = [...page.results];
  const count = page.count;
  const seen = new Set<string>();
  for (let pages = 1; ; pages++) {
    const next = page.next;
    // A repeated link must not loop forever; it ends the list as a missing one does.
    if (!next || seen.has(next)) return { items, complete: true, count };
    if (pages >= maxPages) return { items, complete: false, count };
    seen.add(next);
    page = await client.getPageByUrl(next, schema, signal);
    items.push(...page.results);
  }
}

// -------------------------------------------------------------------------------------------------------
// "Newest first" across pages, whichever order the API pages in.

export type ListOrder = 'newest-first' | 'oldest-first' | 'unordered';

export interface NewestFirstOptions {
  /** Objects per result (1..100). */
  limit: number;
  /** The `next` value of an earlier result (a URL), or undefined for the newest objects. */
  cursor?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface NewestFirstPage<T> {
  /** Newest first. */
  items: T[];
  /** What to pass as `cursor` for the next, older objects; null when there are none. */
  next: string | null;
  /** How the API turned out to order this list (`unordered`: it was read whole and sorted here). */
  order: ListOrder;
  /** Set when the list had to be read whole and the read stopped at the cap. */
  note: string | null;
  /** The API's `count` of the whole list, when it sent one. */
  count: number | undefined;
}

/**
 * Where the next result starts. `desc` (API pages newest first): `pos` is the API index of the next object.
 * `asc` (oldest first): `pos` is the API index just past the next object, counting down from `total`, the
 * list's size when the first result was read (objects created since are appended at the end, so positions
 * stay stable). `scan` (no usable order): `pos` objects of the sorted whole list were already returned.
 * `n` is the page size the API really answers with.
 */
interface Position {
  mode: 'desc' | 'asc' | 'scan';
  n: number;
  pos: number;
  total: number;
}

// The position travels in the URL fragment: never sent to the API, and the cursor stays one same-origin URL.
const FRAGMENT_KEY = 'newest-first';

function encodePosition(base: URL, p: Position): string {
  const url = new URL(base);
  url.hash = `${FRAGMENT_KEY}=${p.mode}.${p.n}.${p.pos}.${p.total}`;
  return url.toString();
}

function decodePosition(url: URL): Position | null {
  const m = new RegExp(`^#${FRAGMENT_KEY}=(desc|asc|scan)\\.(\\d{1,9})\\.(\\d{1,9})\\.(\\d{1,9})$`).exec(
    url.hash,
  );
  if (!m) return null;
  const p = { mode: m[1] as Position['mode'], n: Number(m[2]), pos: Number(m[3]), total: Number(m[4]) };
  if (p.n < 1) return null;
  return p;
}

function pageUrl(base: URL, page: number, size: number): string {
  const url = new URL(base);
  url.hash = '';
  url.searchParams.delete('page');
  url.searchParams.set('page_size', String(size));
  if (page > 1) url.searchParams.set('page', String(page));
  return url.toString();
}

/** Whether timestamps in API order go down (newest first), up, both ways, or not at all. */
function direction<T>(items: readonly T[], time: (item: T) => unknown): 'desc' | 'asc' | 'mixed' | 'flat' {
  const ts = items.map((i) => timestampMicros(time(i))).filter((t): t is number => t !== null);
  let up = false;
  let down = false;
  for (let i = 1; i < ts.length; i++) {
    const a = ts[i - 1] as number;
    const b = ts[i] as number;
    if (b > a) up = true;
    else if (b < a) down = true;
  }
  if (up && down) return 'mixed';
  if (down) return 'desc';
  if (up) return 'asc';
  return 'flat';
}

function firstTime<T>(items: readonly T[], time: (item: T) => unknown, fromEnd = false): number | null {
  const list = fromEnd ? [...items].reverse() : items;
  for (const i of list) {
    const t = timestampMicros(time(i));
    if (t !== null) return t;
  }
  return null;
}

/** Pages of a list read so far in this call, by page number (page size `n`). */
type PageCache<T> = Map<number, Page<T>>;

/**
 * One result of objects newest first. The first call reads the first page; when its timestamps say the API
 * pages oldest first, it reads the last page (from `count`) and, when that is short, the one before it.
 * When the first page shows no order at all, the list is read whole (capped) and sorted here.
 */
export async function readNewestFirst<T extends { uuid: string }>(
  client: DivioClient,
  apiPath: string,
  query: Query,
  schema: z.ZodType<T>,
  time: (item: T) => unknown,
  opts: NewestFirstOptions,
): Promise<NewestFirstPage<T>> {
  const limit = Math.max(1, Math.floor(opts.limit));
  const { signal } = opts;
  const fetchPage = (base: URL, page: number, size: number) =>
    client.getPageByUrl(pageUrl(base, page, size), schema, signal);

  if (opts.cursor) {
    const url = client.checkedUrl(opts.cursor);
    const p = decodePosition(url);
    url.hash = '';
    if (!p) {
      // A plain API page link: one page, sorted.
      const page = await client.getPageByUrl(url.toString(), schema, signal);
      return {
        items: sortNewestFirst(page.results, time),
        next: page.next,
        order: 'unordered',
        note: null,
        count: page.count,
      };
    }
    if (p.mode === 'scan') return scan(client, url, schema, time, limit, p.pos, signal);
    return readRange(url, p, limit, new Map(), fetchPage, time);
  }

  const base = new URL(client.listUrl(apiPath, query));
  const first = await fetchPage(base, 1, limit);
  const n = first.results.length;
  if (!first.next) {
    // The whole list is on this page (more than `limit` objects when the API ignored page_size).
    const sorted = sortNewestFirst(first.results, time);
    const next =
      sorted.length > limit
        ? encodePosition(base, { mode: 'scan', n, pos: limit, total: sorted.length })
        : null;
    const order = direction(first.results, time);
    return {
      items: sorted.slice(0, limit),
      next,
      order: order === 'asc' ? 'oldest-first' : order === 'desc' ? 'newest-first' : 'unordered',
      note: null,
      count: first.count ?? sorted.length,
    };
  }
  const cache: PageCache<T> = new Map([[1, first]]);
  let dir = direction(first.results, time);
  const total = first.count;
  if (dir === 'flat' && total !== undefined && n > 0) {
    // One object, or equal times: compare the first page with the last one.
    const lastNo = Math.ceil(total / n);
    const last = await fetchPage(base, lastNo, n).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (last) {
      cache.set(lastNo, last);
      const a = firstTime(first.results, time);
      const b = firstTime(last.results, time, true);
      if (a !== null && b !== null && a !== b) dir = a > b ? 'desc' : 'asc';
    }
  }
  if (dir === 'desc')
    return readRange(base, { mode: 'desc', n, pos: 0, total: total ?? 0 }, limit, cache, fetchPage, time);
  if (dir === 'asc' && total !== undefined)
    return readRange(base, { mode: 'asc', n, pos: total, total }, limit, cache, fetchPage, time);
  return scan(client, base, schema, time, limit, 0, signal);
}

async function readRange<T extends { uuid: string }>(
  base: URL,
  p: Position,
  limit: number,
  cache: PageCache<T>,
  fetchPage: (base: URL, page: number, size: number) => Promise<Page<T>>,
  time: (item: T) => unknown,
): Promise<NewestFirstPage<T>> {
  const lo = p.mode === 'desc' ? p.pos : Math.max(0, p.pos - limit);
  const hi = p.mode === 'desc' ? p.pos + limit : p.pos;
  const items: T[] = [];
  let count: number | undefined;
  let moreAfter = false;
  for (let pageNo = Math.floor(lo / p.n) + 1; pageNo <= Math.floor((hi - 1) / p.n) + 1 && hi > lo; pageNo++) {
    let page = cache.get(pageNo);
    if (!page) {
      try {
        page = await fetchPage(base, pageNo, p.n);
      } catch (err) {
        // "Invalid page": the list shrank since the position was computed; what was read is the rest.
        if (err instanceof NotFoundError) break;
        throw err;
      }
    }
    count = page.count ?? count;
    const start = (pageNo - 1) * p.n;
    page.results.forEach((item, i) => {
      if (start + i >= lo && start + i < hi) items.push(item);
      else if (start + i >= hi) moreAfter = true;
    });
    if (page.next && pageNo === Math.floor((hi - 1) / p.n) + 1) moreAfter = true;
    if (!page.next) break;
  }
  let next: string | null = null;
  if (p.mode === 'desc') {
    const more = count !== undefined ? hi < count : moreAfter;
    if (more) next = encodePosition(base, { ...p, pos: hi, total: count ?? p.total });
  } else if (lo > 0) next = encodePosition(base, { ...p, pos: lo });
  return {
    items: sortNewestFirst(items, time),
    next,
    order: p.mode === 'desc' ? 'newest-first' : 'oldest-first',
    note: null,
    count,
  };
}

async function scan<T extends { uuid: string }>(
  client: DivioClient,
  base: URL,
  schema: z.ZodType<T>,
  time: (item: T) => unknown,
  limit: number,
  pos: number,
  signal: AbortSignal | undefined,
): Promise<NewestFirstPage<T>> {
  const whole = await readWholeFrom(
    client,
    pageUrl(base, 1, ASKED_PAGE_SIZE),
    schema,
    signal,
    WHOLE_LIST_MAX_PAGES,
  );
  const sorted = sortNewestFirst(whole.items, time);
  const end = pos + limit;
  return {
    items: sorted.slice(pos, end),
    next:
      end < sorted.length
        ? encodePosition(base, { mode: 'scan', n: ASKED_PAGE_SIZE, pos: end, total: sorted.length })
        : null,
    order: 'unordered',
    note: whole.complete
      ? null
      : `The API lists these in no usable order, so ${sorted.length} of ${whole.count ?? 'more'} were read and sorted here; older or newer ones beyond that were not read.`,
    count: whole.count ?? (whole.complete ? sorted.length : undefined),
  };
}
