import type { DivioClient, Page } from '../client/index.js';
import { parseTimeArg } from '../text/format.js';

/**
 * What every operation needs: the client, and the abort signal of the request it runs for. An `Api` is also the
 * client's call options (`client.backups.get(id, api)`), so the signal travels with every request without being
 * spelled out at each call. A tool's context is one; a resource read builds one.
 */
export interface Api {
  readonly client: DivioClient;
  readonly signal: AbortSignal;
}

/**
 * A `since`/`until` pair as a person gives it (ISO 8601 or "15m" ago), read against the client's clock so relative
 * times agree with its waits and the sandbox; either may be absent. `now` is the instant they were read against.
 */
export function timeWindow(
  api: Api,
  args: { since?: string | undefined; until?: string | undefined },
): { now: number; since: Date | undefined; until: Date | undefined } {
  const now = api.client.now();
  return {
    now,
    since: args.since ? parseTimeArg('since', args.since, now) : undefined,
    until: args.until ? parseTimeArg('until', args.until, now) : undefined,
  };
}

/** What a page belongs to: a continuation handed out for it only continues this (same shape as a cursor's scope). */
export interface PageScope {
  /** Resolved application ID, when the list is about one application. */
  app?: string | null | undefined;
  /** Resolved environment ID, when the list is about one environment. */
  environment?: string | null | undefined;
  /** The arguments that narrow the list (not the page size). */
  filters?: Record<string, string | number | boolean | null | undefined>;
}

export interface PageInfo {
  has_more: boolean;
  next_cursor: string | null;
}

/**
 * How a list operation continues: `open` gives the API link a continuation of this scope carries (undefined on
 * the first page), `info` turns the API's link to the next page into what the caller hands out. The MCP layer
 * implements it with signed cursors; operations never see a cursor.
 */
export interface Pager {
  open(scope: PageScope): string | undefined;
  info(scope: PageScope, next: string | null | undefined): PageInfo;
}

/** One page of a list: the first from `first()`, later ones by following the link the pager opened. */
export async function onePage<T>(
  api: Api,
  pager: Pager,
  scope: PageScope,
  first: () => Promise<Page<T>>,
): Promise<Page<T>> {
  const link = pager.open(scope);
  return link ? api.client.getPageByUrl<T>(link, undefined, api.signal) : first();
}
