import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Pager } from '../domain/context.js';

/** Cursors are signed continuation links; the ones handed out always fit this. */
export const CURSOR_MAX_LENGTH = 2000;

/*
 * Cursors handed to the model are opaque, signed and bound. A cursor carries the API's own continuation link
 * (the `next` link of a page, or the logs' `previous` link), and an HMAC over that link, the tool that
 * issued it, the resolved target (application and environment IDs) and the filters of the call. A cursor
 * passed to another tool, or with another target or other filters, is refused before any request is made:
 * otherwise one environment's page would be shown under another one's name. The key is the configured
 * cursor key (ServerConfig.cursorKey), so replicas sharing it accept each other's cursors.
 *
 * Layout: c1.<tool tag>.<scope tag>.<link, base64url>.<mac>. The two tags are keyed digests, so they reveal
 * nothing, and they let a refusal say which binding failed; the mac covers them and the link.
 */

/** What a page belongs to: the cursor it hands out only continues this. */
export interface CursorScope {
  /** Resolved application ID, when the list is about one application. */
  app?: string | null | undefined;
  /** Resolved environment ID, when the list is about one environment. */
  environment?: string | null | undefined;
  /** The arguments that narrow the list (not the page size). */
  filters?: Record<string, string | number | boolean | null | undefined>;
}

export class CursorError extends Error {
  override name = 'CursorError';
}

function mac(key: Uint8Array, ...parts: string[]): string {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p).update('\0');
  return h.digest('base64url');
}

function scopeText(scope: CursorScope): string {
  const filters = Object.entries(scope.filters ?? {})
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([scope.app ?? null, scope.environment ?? null, filters]);
}

function tags(key: Uint8Array, tool: string, scope: CursorScope): { tool: string; scope: string } {
  return {
    tool: mac(key, 'cursor-tool', tool).slice(0, 8),
    scope: mac(key, 'cursor-scope', tool, scopeText(scope)).slice(0, 16),
  };
}

/** The cursor for the continuation `link` of a page of `tool` in `scope`; null when there is no next page. */
export function signCursor(
  key: Uint8Array,
  tool: string,
  scope: CursorScope,
  link: string | null | undefined,
): string | null {
  if (!link) return null;
  const t = tags(key, tool, scope);
  const body = Buffer.from(link, 'utf8').toString('base64url');
  const cursor = `c1.${t.tool}.${t.scope}.${body}.${mac(key, 'cursor', t.tool, t.scope, body).slice(0, 32)}`;
  if (cursor.length > CURSOR_MAX_LENGTH) {
    throw new CursorError(
      `The API's link to the next page is too long to hand out as a cursor (${cursor.length} characters). Narrow the query (a shorter search, fewer filters) and call ${tool} again.`,
    );
  }
  return cursor;
}

/** The continuation link a cursor carries, once it is proven to come from `tool` in this same scope. */
export function openCursor(key: Uint8Array, tool: string, scope: CursorScope, cursor: string): string {
  const drop = `Call ${tool} again without cursor to start from the first page.`;
  const parts = cursor.split('.');
  const [version, toolTag = '', scopeTag = '', body = '', sig = ''] = parts;
  const expected = Buffer.from(mac(key, 'cursor', toolTag, scopeTag, body).slice(0, 32));
  const given = Buffer.from(sig);
  if (
    parts.length !== 5 ||
    version !== 'c1' ||
    expected.length !== given.length ||
    !timingSafeEqual(expected, given)
  ) {
    throw new CursorError(
      `The cursor is not valid: pass next_cursor from the previous result unchanged (it is opaque; a cursor from before a server restart is not valid either). ${drop}`,
    );
  }
  const t = tags(key, tool, scope);
  if (toolTag !== t.tool) {
    throw new CursorError(
      `This cursor was issued by another tool; a cursor only continues the list it came from. Drop it: ${drop}`,
    );
  }
  if (scopeTag !== t.scope) {
    throw new CursorError(
      `This cursor was issued for another app, environment or filters than this call's; a cursor only continues the same ${tool} call with the same app, environment and filters. Drop it: ${drop} Or repeat the arguments of the call that returned it.`,
    );
  }
  return Buffer.from(body, 'base64url').toString('utf8');
}

/** The pager of one tool call: a page's continuation is a cursor signed for this tool and that page's scope. */
export function pager(key: Uint8Array, tool: string, cursor: string | undefined): Pager {
  return {
    open: (scope) => (cursor ? openCursor(key, tool, scope, cursor) : undefined),
    info: (scope, next) => {
      const signed = signCursor(key, tool, scope, next ?? null);
      return { has_more: signed !== null, next_cursor: signed };
    },
  };
}
