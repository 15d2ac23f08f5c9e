import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type CallToolResult,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import { SharedStateUnavailableError } from '../state/index.js';
import { envName, sanitize } from '../text/index.js';
import { ToolError } from './errors.js';
import type { AnyTool, ConfirmPreview, ToolContext } from './registry.js';

/*
 * The confirmation gate. One mechanism for every write tool:
 *  1. The tool's preview resolves everything and describes exactly what will happen; no write happens here.
 *  2. The environment policy refuses writes to read-only environments and marks protected ones.
 *  3. When the client can show a form, the person is asked (input_required / elicitation/create).
 *  4. Otherwise the first call returns the preview and a confirmation token; the action runs only when the
 *     same tool is called again with the same arguments and that token. The token is an HMAC over the
 *     tool, the canonical arguments, an expiry and the state the preview showed, so it is stateless,
 *     works on any replica that shares the key, and is single-use: once the action ran, the state changed.
 * Everything fails closed: an unreadable answer, a missing capability or a changed state means no write.
 */

// The token's length is checked but not advertised (a refinement): a model copies the token, never composes it.
export const ConfirmArg = z
  .string()
  .refine((s) => s.length <= 600, 'must be the confirmation_token of a preview')
  .optional()
  .describe('confirmation_token, once the person agreed');

/** Fields that do not change what the action does and so are not bound by the token. */
const UNBOUND = new Set(['confirm', 'wait_seconds']);

export function canonicalArgs(args: Record<string, unknown>): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  const bound = Object.fromEntries(
    Object.entries(args).filter(([k, v]) => !UNBOUND.has(k) && v !== undefined),
  );
  return JSON.stringify(sorted(bound));
}

function mac(key: Uint8Array, ...parts: string[]): string {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p).update('\0');
  return h.digest('base64url');
}

/** What a signed value is for: a token handed to the model, or the state a dialog showed. Never interchangeable. */
export type TokenPurpose = 'token' | 'dialog';

/** Token layout: v1.<expiry seconds>.<args digest>.<state digest>.<mac>; digests are keyed, so they reveal nothing. */
export function mintToken(
  key: Uint8Array,
  tool: string,
  args: string,
  state: string,
  expiresAt: number,
  purpose: TokenPurpose = 'token',
): string {
  const exp = String(Math.floor(expiresAt / 1000));
  const a = mac(key, 'args', tool, args).slice(0, 16);
  const s = mac(key, 'state', tool, state).slice(0, 16);
  return `v1.${exp}.${a}.${s}.${mac(key, purpose, tool, exp, a, s)}`;
}

export type TokenCheck = { ok: true } | { ok: false; reason: 'forged' | 'expired' | 'arguments' | 'state' };

export function checkToken(
  key: Uint8Array,
  token: string,
  tool: string,
  args: string,
  state: string,
  now = Date.now(),
  purpose: TokenPurpose = 'token',
): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') return { ok: false, reason: 'forged' };
  const [, exp = '', a = '', s = '', sig = ''] = parts;
  const expected = Buffer.from(mac(key, purpose, tool, exp, a, s));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'forged' };
  if (!/^\d+$/.test(exp) || Number(exp) * 1000 < now) return { ok: false, reason: 'expired' };
  if (a !== mac(key, 'args', tool, args).slice(0, 16)) return { ok: false, reason: 'arguments' };
  if (s !== mac(key, 'state', tool, state).slice(0, 16)) return { ok: false, reason: 'state' };
  return { ok: true };
}

/*
 * Single use under concurrency. The state binding makes a token useless once its action has changed the
 * state, but two calls racing with one token would both pass before either writes. The shared state
 * (ctx.state, see src/state/) therefore records every token it accepted until it expires, and holds one
 * write slot per tool and environment. Without DIVIO_MCP_REDIS_URL that memory is this process's own, so a
 * replay racing on another replica is only stopped by Divio itself; with Redis, by every replica at once.
 * When Redis is configured but unreachable, both fail closed: no write.
 */

/** How long a write slot outlives a replica that died holding it (the lease is renewed while it runs). */
const SLOT_LEASE_MS = 30_000;

/** The expiry (epoch ms) a token carries, for how long its use must be remembered. */
function tokenExpiry(token: string): number {
  const exp = Number(token.split('.')[1] ?? '0') * 1000;
  return Number.isFinite(exp) && exp > Date.now() ? exp : Date.now() + 3_600_000;
}

/** The refusal when the shared store is down: names where it is (never a password) and what to do. */
function storeDown(tool: string, error: SharedStateUnavailableError): ToolError {
  return new ToolError(
    `${tool} was refused: the shared state store (Redis at ${error.where}, DIVIO_MCP_REDIS_URL) is unreachable, and without it this server cannot keep confirmations single-use and writes one at a time across replicas. Nothing was changed. Tell the person: the server's operator must bring Redis at ${error.where} back (or fix DIVIO_MCP_REDIS_URL); reads keep working meanwhile. Once it answers again, call ${tool} without confirm for a fresh preview.`,
  );
}

/** Runs a shared-state step that guards a write; an unreachable store becomes the refusal above. */
async function guarded<T>(tool: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof SharedStateUnavailableError) throw storeDown(tool, error);
    throw error;
  }
}

/** Writes without confirmation (create_backup) take no token or slot, but still run only while the store answers. */
export async function refuseIfStoreDown(ctx: ToolContext): Promise<void> {
  if (ctx.state.kind === 'memory') return;
  const problem = await ctx.state.problem();
  if (problem) throw storeDown(ctx.tool, new SharedStateUnavailableError(ctx.state.where));
}

/** Records a token (or a dialog's state) as used; false when it already was, on any replica sharing the store. */
function claimToken(ctx: ToolContext, purpose: TokenPurpose, token: string): Promise<boolean> {
  return guarded(ctx.tool, () => ctx.state.claimOnce(`${purpose}:${token}`, tokenExpiry(token)));
}

const TOKEN_REFUSALS: Record<Exclude<TokenCheck, { ok: true }>['reason'] | 'used', string> = {
  used: 'was already used',
  forged: 'was not issued by this server for this tool',
  expired: 'has expired',
  arguments: 'was issued for different arguments',
  state: 'no longer matches the current state: it was already used, or something changed since the preview',
};

/** Refuses any write to an environment configured read-only, in every confirm mode. */
export async function refuseIfReadOnly(
  tool: string,
  t: ConfirmPreview['target'],
  ctx: ToolContext,
): Promise<void> {
  if (!(await ctx.policy.matches('read-only-environments', t, ctx.signal))) return;
  ctx.audit({ tool, app: t.app, environment: t.environment, outcome: 'refused: read-only environment' });
  throw new ToolError(
    `${envName(t.app, t.environment)} is read-only for this server (--read-only-environments), so ${tool} is refused. Nothing was changed. Ask the person to change the server configuration if this write is intended.`,
  );
}

export async function isProtected(ctx: ToolContext, t: ConfirmPreview['target']): Promise<boolean> {
  return (
    t.productionGrade ||
    t.environment === 'live' ||
    (await ctx.policy.matches('protected-environments', t, ctx.signal))
  );
}

/**
 * The preview as a person reads it: the summary, then one `- Label: value` line per detail. Previews quote
 * every platform value where they are built (src/text); this keeps each part on its one line regardless.
 */
export function previewText(p: ConfirmPreview): string {
  const line = (text: string) => sanitize(text).replace(/[\n\t]/g, ' ');
  return [line(p.summary), ...Object.entries(p.details).map(([k, v]) => `- ${line(k)}: ${line(v)}`)].join(
    '\n',
  );
}

export const PreviewSchema = z.object({ summary: z.string(), details: z.record(z.string(), z.string()) });

/** Every write tool's structured output: the preview, the token while confirmation is pending, then the result. */
export function writeEnvelope(result: z.ZodObject) {
  return z.object({
    confirmation_required: z.boolean(),
    preview: PreviewSchema.nullable(),
    confirmation_token: z.string().nullable(),
    expires_at: z.string().nullable(),
    result: result.nullable(),
  });
}

const DialogAnswer = z.object({ confirm: z.boolean() });

export type GateOutcome =
  | {
      proceed: true;
      preview: ConfirmPreview;
      confirmedBy: 'person' | 'token' | 'mode-none' | 'no-write';
      /** Frees the per-tool, per-environment write slot; call when the handler is done. */
      release: () => Promise<void>;
    }
  | { proceed: false; result: CallToolResult | InputRequiredResult };

function refuse(text: string): { proceed: false; result: CallToolResult } {
  return { proceed: false, result: { isError: true, content: [{ type: 'text', text }] } };
}

/** The gate with the write slot: at most one write per tool and environment runs at a time (see ctx.state). */
export async function runGate(
  tool: AnyTool,
  args: Record<string, unknown>,
  ctx: ToolContext,
): Promise<GateOutcome> {
  const outcome = await decide(tool, args, ctx);
  if (!outcome.proceed) return outcome;
  if (outcome.confirmedBy === 'no-write') return { ...outcome, release: async () => undefined };
  const t = outcome.preview.target;
  const release = await guarded(tool.name, () =>
    ctx.state.acquireSlot(`${tool.name}:${t.environmentUuid}`, SLOT_LEASE_MS),
  );
  if (!release) {
    const where = ctx.state.kind === 'redis' ? "on a server sharing this one's state" : 'on this server';
    return refuse(
      `Another ${tool.name} on ${envName(t.app, t.environment)} is already running ${where}. Nothing new was started. Wait for it to finish, then check the result before trying again.`,
    );
  }
  return { ...outcome, release };
}

type Decision =
  | { proceed: true; preview: ConfirmPreview; confirmedBy: 'person' | 'token' | 'mode-none' | 'no-write' }
  | { proceed: false; result: CallToolResult | InputRequiredResult };

async function decide(tool: AnyTool, args: Record<string, unknown>, ctx: ToolContext): Promise<Decision> {
  const spec = tool.confirm;
  if (!spec) throw new Error(`${tool.name} has no confirmation spec`);
  const { confirm: token, ...actionArgs } = args;
  const preview = await spec.preview(actionArgs, ctx);
  const { config } = ctx;
  const t = preview.target;
  const where = envName(t.app, t.environment);

  await refuseIfReadOnly(tool.name, t, ctx);
  if (preview.noWrite) return { proceed: true, preview, confirmedBy: 'no-write' };
  if (config.confirmMode === 'none') return { proceed: true, preview, confirmedBy: 'mode-none' };

  const protectedEnv = await isProtected(ctx, t);
  const mode = config.confirmMode;
  const useDialog = mode === 'elicit' || (mode === 'auto' && ctx.canElicit);

  if (useDialog) {
    if (!ctx.canElicit) {
      return refuse(
        `${tool.name} needs the person's confirmation in a dialog (--confirm-mode elicit), but this client cannot show one. Nothing was changed. Use a client that supports elicitation, or ask the person to run the server with --confirm-mode token.`,
      );
    }
    const answer = inputResponse(ctx.mcp.mcpReq.inputResponses, 'confirm');
    if (answer.kind === 'missing') {
      return {
        proceed: false,
        result: inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: `${previewText(preview)}\n\nConfirm to go ahead.`,
              requestedSchema: z.object({
                confirm: z.boolean().meta({ title: 'Yes, do this', description: preview.summary }),
              }),
            }),
          },
          // Binds the answer to what the dialog showed: if the state moves before the answer arrives, no write.
          requestState: mintToken(
            config.confirmKey,
            tool.name,
            canonicalArgs(actionArgs),
            preview.state,
            Date.now() + config.confirmTtlSeconds * 1000,
            'dialog',
          ),
        }),
      };
    }
    const accepted =
      answer.kind === 'elicit' && answer.action === 'accept' ? DialogAnswer.safeParse(answer.content) : null;
    if (!accepted?.success || accepted.data.confirm !== true) {
      const how = answer.kind === 'elicit' ? answer.action : 'an unreadable answer';
      // A declined dialog's state is burned like a used token: replaying it with "accept" is refused. If the
      // shared store is down it cannot be burned: an "accept" replay is refused while the store stays down
      // (fails closed), but once it is back such a replay could pass until the dialog's state expires, and only
      // while the environment is as the dialog showed it.
      const declined = ctx.mcp.mcpReq.requestState?.();
      if (
        typeof declined === 'string' &&
        checkToken(
          config.confirmKey,
          declined,
          tool.name,
          canonicalArgs(actionArgs),
          preview.state,
          Date.now(),
          'dialog',
        ).ok
      )
        await claimToken(ctx, 'dialog', declined).catch(() => false);
      ctx.audit({
        tool: tool.name,
        app: t.app,
        environment: t.environment,
        outcome: `not confirmed (${how})`,
      });
      return refuse(
        `The person did not confirm (${how}). Nothing was changed. Do not retry unless they ask.`,
      );
    }
    const echoed = ctx.mcp.mcpReq.requestState?.();
    const check =
      typeof echoed === 'string'
        ? checkToken(
            config.confirmKey,
            echoed,
            tool.name,
            canonicalArgs(actionArgs),
            preview.state,
            Date.now(),
            'dialog',
          )
        : ({ ok: false, reason: 'forged' } as const);
    const reason = !check.ok
      ? check.reason
      : typeof echoed === 'string' && !(await claimToken(ctx, 'dialog', echoed))
        ? 'used'
        : null;
    if (reason) {
      return refuse(
        `The confirmation ${TOKEN_REFUSALS[reason]}. Nothing was changed. Call ${tool.name} again to see a fresh preview.`,
      );
    }
    return { proceed: true, preview, confirmedBy: 'person' };
  }

  if (mode === 'auto' && protectedEnv) {
    ctx.audit({
      tool: tool.name,
      app: t.app,
      environment: t.environment,
      outcome: 'refused: protected, no dialog',
    });
    return refuse(
      `${where} is a protected (production) environment: ${tool.name} there needs the person's confirmation in a dialog, and this client cannot show one. Nothing was changed. The person can use a client with elicitation support, or allow confirmation by token by running the server with --confirm-mode token.`,
    );
  }

  const argsKey = canonicalArgs(actionArgs);
  if (typeof token === 'string') {
    const checked = checkToken(config.confirmKey, token, tool.name, argsKey, preview.state);
    const check: TokenCheck | { ok: false; reason: 'used' } =
      checked.ok && !(await claimToken(ctx, 'token', token)) ? { ok: false, reason: 'used' } : checked;
    if (!check.ok) {
      ctx.audit({
        tool: tool.name,
        app: t.app,
        environment: t.environment,
        outcome: `token refused: ${check.reason}`,
      });
      return refuse(
        `The confirmation token ${TOKEN_REFUSALS[check.reason]}. Nothing was changed. Call ${tool.name} again without confirm to get a fresh preview, show it to the person, and only pass the new token if they agree.`,
      );
    }
    return { proceed: true, preview, confirmedBy: 'token' };
  }

  const expiresAt = Date.now() + config.confirmTtlSeconds * 1000;
  const issued = mintToken(config.confirmKey, tool.name, argsKey, preview.state, expiresAt);
  const expiresIso = new Date(expiresAt).toISOString();
  const text = [
    'NOT DONE YET: confirmation required.',
    previewText(preview),
    '',
    `Show this to the user and ask whether to go ahead. Only if they explicitly agree, call ${tool.name} again with the same arguments plus confirm: "${issued}" (valid until ${expiresIso}). Never confirm on their behalf.`,
  ].join('\n');
  return {
    proceed: false,
    result: {
      content: [{ type: 'text', text }],
      structuredContent: {
        confirmation_required: true,
        preview: { summary: preview.summary, details: preview.details },
        confirmation_token: issued,
        expires_at: expiresIso,
        result: null,
      },
    },
  };
}
