import type { SandboxState } from './state.js';
import { HttpError, normaliseUuid, parseIsoUtc } from './util.js';

export interface Ctx {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** scheme + host the client used, e.g. http://127.0.0.1:4000 */
  origin: string;
  state: SandboxState;
}

export interface Result {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** raw bytes instead of JSON */
  raw?: Buffer;
}

export const ok = (body: unknown, status = 200): Result => ({ status, body });

// ---- pagination --------------------------------------------------------------------------------

/** DRF's PageNumberPagination default page size as configured on Divio (inferred; 20 is a common setting). */
export const DEFAULT_PAGE_SIZE = 20;
/** Upper bound for page_size (inferred; DRF clamps to max_page_size rather than failing). */
export const MAX_PAGE_SIZE = 100;

function strictPositiveInt(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  const n = Number.parseInt(value, 10);
  return n > 0 ? n : null;
}

/** Like DRF's replace_query_param / remove_query_param: keys are sorted when the URL is rebuilt. */
function urlWith(ctx: Ctx, set: Record<string, string | null>): string {
  const params = new URLSearchParams(ctx.query);
  for (const [k, v] of Object.entries(set)) {
    if (v === null) params.delete(k);
    else params.set(k, v);
  }
  params.sort();
  const qs = params.toString();
  return `${ctx.origin}${ctx.path}${qs ? `?${qs}` : ''}`;
}

export function paginate<T>(ctx: Ctx, items: T[], serialise: (item: T) => unknown): Result {
  const size = Math.min(
    strictPositiveInt(ctx.query.get('page_size')) ?? DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ctx.state.maxPageSize ?? MAX_PAGE_SIZE,
  );
  const pages = Math.max(1, Math.ceil(items.length / size));
  const raw = ctx.query.get('page');
  let page = 1;
  if (raw !== null) {
    if (raw === 'last') page = pages;
    else {
      const n = strictPositiveInt(raw);
      if (n === null || n > pages) throw new HttpError(404, { detail: 'Invalid page.' });
      page = n;
    }
  }
  const slice = items.slice((page - 1) * size, page * size);
  return ok({
    count: items.length,
    next: page < pages ? urlWith(ctx, { page: String(page + 1) }) : null,
    previous: page > 1 ? urlWith(ctx, { page: page - 1 === 1 ? null : String(page - 1) }) : null,
    results: slice.map(serialise),
  });
}

/** DRF LimitOffsetPagination, used by cronjobs. Envelope as DRF's standard (inferred for Divio). */
export function paginateLimitOffset<T>(ctx: Ctx, items: T[], serialise: (item: T) => unknown): Result {
  const limit = Math.min(
    strictPositiveInt(ctx.query.get('limit')) ?? DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ctx.state.maxPageSize ?? MAX_PAGE_SIZE,
  );
  const rawOffset = ctx.query.get('offset');
  const offset = rawOffset !== null && /^\d+$/.test(rawOffset) ? Number.parseInt(rawOffset, 10) : 0;
  const count = items.length;
  const next =
    offset + limit < count ? urlWith(ctx, { limit: String(limit), offset: String(offset + limit) }) : null;
  let previous: string | null = null;
  if (offset > 0) {
    previous =
      offset - limit <= 0
        ? urlWith(ctx, { limit: String(limit), offset: null })
        : urlWith(ctx, { limit: String(limit), offset: String(offset - limit) });
  }
  return ok({ count, next, previous, results: items.slice(offset, offset + limit).map(serialise) });
}

// ---- query filters -----------------------------------------------------------------------------

const invalidUuid = (v: string) => `“${v}” is not a valid UUID.`;

/** A single-valued UUID filter (django-filter). Invalid values give 400 in DRF's field-error shape. */
export function uuidFilter(ctx: Ctx, name: string): string | undefined {
  if (ctx.state.ignoredFilters.has(name)) return undefined;
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return undefined;
  const v = normaliseUuid(raw);
  if (!v) throw new HttpError(400, { [name]: [invalidUuid(raw)] });
  return v;
}

/** A repeatable UUID filter (`?uuid=a&uuid=b`). */
export function uuidListFilter(ctx: Ctx, name: string): string[] {
  const out: string[] = [];
  if (ctx.state.ignoredFilters.has(name)) return out;
  for (const raw of ctx.query.getAll(name)) {
    if (raw === '') continue;
    const v = normaliseUuid(raw);
    if (!v) throw new HttpError(400, { [name]: [invalidUuid(raw)] });
    out.push(v);
  }
  return out;
}

export function boolFilter(ctx: Ctx, name: string): boolean | undefined {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return undefined;
  if (['true', 'True', '1'].includes(raw)) return true;
  if (['false', 'False', '0'].includes(raw)) return false;
  throw new HttpError(400, {
    [name]: ['Select a valid choice. That choice is not one of the available choices.'],
  });
}

// ---- body validation (DRF serializer messages) -------------------------------------------------

export class BodyValidator {
  readonly errors: Record<string, unknown[]> = {};
  readonly data: Record<string, unknown>;

  constructor(body: unknown) {
    if (body === undefined) this.data = {};
    else if (body !== null && typeof body === 'object' && !Array.isArray(body))
      this.data = body as Record<string, unknown>;
    else
      throw new HttpError(400, {
        non_field_errors: [`Invalid data. Expected a dictionary, but got ${typeName(body)}.`],
      });
  }

  private fail(field: string, message: string): undefined {
    const list = this.errors[field] ?? [];
    list.push(message);
    this.errors[field] = list;
    return undefined;
  }

  has(field: string): boolean {
    return this.data[field] !== undefined;
  }

  string(field: string, o: { required?: boolean; maxLength?: number; allowBlank?: boolean } = {}) {
    const v = this.data[field];
    if (v === undefined) return o.required ? this.fail(field, 'This field is required.') : undefined;
    if (v === null) return this.fail(field, 'This field may not be null.');
    if (typeof v !== 'string' && typeof v !== 'number') return this.fail(field, 'Not a valid string.');
    const s = String(v);
    if (s.trim() === '' && !o.allowBlank) return this.fail(field, 'This field may not be blank.');
    if (o.maxLength !== undefined && s.length > o.maxLength)
      return this.fail(field, `Ensure this field has no more than ${o.maxLength} characters.`);
    return s;
  }

  choice<T extends string>(
    field: string,
    choices: readonly T[],
    o: { required?: boolean } = {},
  ): T | undefined {
    const v = this.data[field];
    if (v === undefined) return o.required ? this.fail(field, 'This field is required.') : undefined;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v))
      return this.fail(field, `"${String(v)}" is not a valid choice.`);
    return v as T;
  }

  bool(field: string): boolean | undefined {
    const v = this.data[field];
    if (v === undefined) return undefined;
    if (v === true || v === 'true' || v === 'True' || v === '1' || v === 1) return true;
    if (v === false || v === 'false' || v === 'False' || v === '0' || v === 0) return false;
    return this.fail(field, 'Must be a valid boolean.');
  }

  /** A PrimaryKeyRelatedField: a UUID that must name an existing object. */
  pk(field: string, exists: (uuid: string) => boolean, o: { required?: boolean } = {}): string | undefined {
    const v = this.data[field];
    if (v === undefined)
      return o.required === false ? undefined : this.fail(field, 'This field is required.');
    if (v === null) return this.fail(field, 'This field may not be null.');
    if (typeof v !== 'string')
      return this.fail(field, `Incorrect type. Expected pk value, received ${typeof v}.`);
    const u = normaliseUuid(v);
    if (!u) return this.fail(field, invalidUuid(v));
    if (!exists(u)) return this.fail(field, `Invalid pk "${v}" - object does not exist.`);
    return u;
  }

  pkList(
    field: string,
    exists: (uuid: string) => boolean,
    o: { required?: boolean } = {},
  ): string[] | undefined {
    const v = this.data[field];
    if (v === undefined)
      return o.required === false ? undefined : this.fail(field, 'This field is required.');
    if (!Array.isArray(v)) return this.fail(field, `Expected a list of items but got type "${typeName(v)}".`);
    const out: string[] = [];
    for (const item of v) {
      if (typeof item !== 'string')
        return this.fail(field, `Incorrect type. Expected pk value, received ${typeName(item)}.`);
      const u = normaliseUuid(item);
      if (!u) return this.fail(field, invalidUuid(item));
      if (!exists(u)) return this.fail(field, `Invalid pk "${item}" - object does not exist.`);
      out.push(u);
    }
    return out;
  }

  datetime(field: string): string | null | undefined {
    const v = this.data[field];
    if (v === undefined || v === null) return v as null | undefined;
    // Zone-less values are UTC, never the host's local time (see parseIsoUtc).
    const ms = typeof v === 'string' ? parseIsoUtc(v) : Number.NaN;
    if (Number.isNaN(ms))
      return this.fail(
        field,
        'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].',
      );
    return new Date(ms).toISOString();
  }

  addError(field: string, message: string): void {
    this.fail(field, message);
  }

  check(): void {
    if (Object.keys(this.errors).length > 0) throw new HttpError(400, this.errors);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  return 'dict';
}
