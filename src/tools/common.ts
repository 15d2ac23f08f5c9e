import type { Page } from '../client/index.js';
import type { Pager, PageScope } from '../domain/context.js';
import { openCursor, pager, signCursor } from '../mcp/cursor.js';
import type { ToolContext } from '../mcp/registry.js';

/** The pager of this call: what a list operation continues from (`cursor`) and how it hands out the next one. */
export function pages(ctx: Pick<ToolContext, 'config' | 'tool'>, cursor: string | undefined): Pager {
  return pager(ctx.config.cursorKey, ctx.tool, cursor);
}

/**
 * One page of this tool's list in `scope`: the first from `first()`, later ones by following the link a
 * cursor of this same tool and scope carries (same origin only, checked by the client). For tools whose
 * operation does not take a Pager yet.
 */
export async function onePage<T>(
  ctx: ToolContext,
  scope: PageScope,
  cursor: string | undefined,
  first: () => Promise<Page<T>>,
): Promise<Page<T>> {
  if (cursor) return ctx.client.getPageByUrl<T>(openLink(ctx, scope, cursor), undefined, ctx.signal);
  return first();
}

/** The API link a cursor carries, once proven to come from this tool in this scope. */
export function openLink(ctx: ToolContext, scope: PageScope, cursor: string): string {
  return openCursor(ctx.config.cursorKey, ctx.tool, scope, cursor);
}

/** has_more and a cursor for the link to the next page (`page.next` unless given), bound to this tool and scope. */
export function pageInfo(
  ctx: ToolContext,
  scope: PageScope,
  page: { next?: string | null | undefined },
): { has_more: boolean; next_cursor: string | null } {
  const next = signCursor(ctx.config.cursorKey, ctx.tool, scope, page.next ?? null);
  return { has_more: next !== null, next_cursor: next };
}

// Moved to the domain layer; re-exported while tools still import them from here.
export {
  deploymentOutcome,
  deploymentResult,
  deploymentSummary,
  releasedCommitOf,
  summariseDeployment,
} from '../domain/deployments.js';
export { variableNames } from '../domain/environments.js';
export type { DeploymentSummary } from '../domain/shapes.js';
export {
  envSlugMap,
  envSlugOf,
  idOf,
  resolveAppAndEnv,
  resolveTarget,
  type Target,
} from '../domain/targets.js';
