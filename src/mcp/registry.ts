import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type InputRequiredResult,
  type McpServer,
  type ServerContext,
  type StandardSchemaWithJSON,
} from '@modelcontextprotocol/server';
import type * as z from 'zod';
import type { Clock, DivioClient } from '../client/index.js';
import type { ConfirmPreview } from '../domain/effects.js';
import type { SharedState } from '../state/index.js';
import { inline, sanitizeDeep } from '../text/index.js';
import { withCallLog } from './calllog.js';
import type { ServerConfig, Toolset } from './config.js';
import { ConfirmArg, refuseIfReadOnly, refuseIfStoreDown, runGate, writeEnvelope } from './confirm.js';
import { toErrorResult } from './errors.js';
import { mcpSchema } from './json-schema.js';
import type { ResourceLink } from './links.js';
import type { Logger } from './log.js';
import {
  type AuditWho,
  auditWrite,
  failedAfterWrite,
  mayHaveLanded,
  newWriteRecord,
  type WriteRecord,
} from './outcome.js';
import type { EnvironmentPolicy } from './policy.js';
import toolSchemas from './tool-schemas.json' with { type: 'json' };

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** The annotations of every tool that only reads. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

export type ProgressFn = (progress: number, total: number | undefined, message: string) => Promise<void>;

/** What a handler gets besides its arguments. It never builds a client of its own. */
export interface ToolContext {
  /** The name of the tool being called (cursors are bound to it). */
  tool: string;
  client: DivioClient;
  config: ServerConfig;
  /** The read-only and protected environment lists. */
  policy: EnvironmentPolicy;
  /** Single-use tokens and write slots: this process's memory, or Redis shared by every replica. */
  state: SharedState;
  signal: AbortSignal;
  /** Sends `notifications/progress` when the caller asked for it; a no-op otherwise. Values only ever increase. */
  progress: ProgressFn;
  /** The raw SDK context, for the confirmation gate only. */
  mcp: ServerContext;
  /** Whether this request's client can show a form dialog (elicitation) to the person. */
  canElicit: boolean;
  /**
   * For write tools, how the gate let this call through. 'no-write' means the preview promised that nothing
   * would be written (e.g. attaching to a running deploy): the handler must keep that promise.
   */
  confirmation?: 'person' | 'token' | 'mode-none' | 'no-write';
  /** Write tools: what became of the write, filled in by `performWrite` (outcome.ts) for the audit line. */
  write?: WriteRecord;
  /** Writes one structured audit line to stderr. The confirmation gate's refusals only; writes are audited by the registry. */
  audit: (entry: Record<string, unknown>) => void;
  /** Aborted when the server starts its shutdown drain: waits return their handle instead of waiting on. */
  stopWaiting?: AbortSignal | undefined;
  telemetry?: ToolTelemetry | undefined;
  /** Time for waits between polls (the system clock in production; tests pass a fake one). */
  clock: Clock;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry erases per-tool schema types.
type AnyObject = z.ZodObject<any>;

/** The confirmation gate's contract; see confirm.ts. */
export interface ConfirmSpec<I> {
  preview: (args: I, ctx: ToolContext) => Promise<ConfirmPreview>;
}

export type { ConfirmPreview };

export interface ToolDef<I extends AnyObject, O extends AnyObject> {
  name: string;
  title: string;
  toolset: Toolset;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  handler: (args: z.infer<I>, ctx: ToolContext) => Promise<z.infer<O>>;
  /** A short human-readable rendering of the output. */
  render: (out: z.infer<O>) => string;
  /** Links to the resources the result names. */
  links?: (out: z.infer<O>) => ResourceLink[];
  /** Write tools: the preview the confirmation gate shows before the handler may run. */
  confirm?: ConfirmSpec<z.infer<I>>;
  /** Writes without confirmation: the environment they write to, for the read-only environment policy. */
  policyTarget?: (args: z.infer<I>, ctx: ToolContext) => Promise<ConfirmPreview['target']>;
  /** Write tools: the API object the write created or changed, for the audit line. */
  auditUuid?: (out: z.infer<O>) => string | null;
}

// biome-ignore lint/suspicious/noExplicitAny: heterogeneous list of tool definitions.
export type AnyTool = ToolDef<any, any>;

export function defineTool<I extends AnyObject, O extends AnyObject>(def: ToolDef<I, O>): AnyTool {
  return def as AnyTool;
}

export function isWriteTool(tool: AnyTool): boolean {
  return !tool.annotations.readOnlyHint;
}

/** Read-only mode hides write tools; `--toolsets` hides whole areas. Hidden tools are not listed at all. */
export function selectTools(tools: readonly AnyTool[], config: ServerConfig): AnyTool[] {
  return tools.filter((tool) => {
    if (config.readOnly && isWriteTool(tool)) return false;
    if (config.toolsets && !config.toolsets.has(tool.toolset)) return false;
    return true;
  });
}

/** How a tool call was answered: a result, an error result, a token preview, or a pending dialog. */
export type ToolOutcome = 'ok' | 'error' | 'confirmation_required' | 'input_required';

/** What the confirmation gate decided for one write call. */
export type ConfirmationOutcome =
  | 'token_issued'
  | 'dialog_requested'
  | 'confirmed_by_token'
  | 'confirmed_by_person'
  | 'not_needed'
  | 'unconfirmed_mode_none'
  | 'refused';

/** Counts calls, gate decisions and waits (cli/metrics.ts); never sees arguments or results. */
export interface ToolTelemetry {
  toolCall(tool: string, outcome: ToolOutcome, seconds: number): void;
  confirmation(tool: string, outcome: ConfirmationOutcome): void;
  /** A wait on a long operation began; call the returned function when it ends. */
  waitStarted(tool: string): () => void;
}

export interface RegistryDeps {
  /** Diagnostics (never stdout): one line per call, details of unexpected errors the model is not shown. */
  log: Logger;
  client: DivioClient;
  config: ServerConfig;
  policy: EnvironmentPolicy;
  state: SharedState;
  audit: (entry: Record<string, unknown>) => void;
  /** See ToolContext.stopWaiting. */
  stopWaiting?: AbortSignal | undefined;
  telemetry?: ToolTelemetry | undefined;
  clock: Clock;
}

function makeProgress(ctx: ServerContext): ProgressFn {
  const token = ctx.mcpReq._meta?.progressToken;
  let last = -Infinity;
  return async (progress, total, message) => {
    if (token === undefined || ctx.mcpReq.signal.aborted) return;
    // Progress must strictly increase per token; clients may also insert their own values between ours.
    const value = progress > last ? progress : last + 0.01;
    last = value;
    const params: Record<string, unknown> = {
      progressToken: token,
      progress: Number(value.toFixed(2)),
      // Progress messages carry platform status text; clients show them as they are.
      message: inline(message),
    };
    if (total !== undefined) params['total'] = total;
    try {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params });
    } catch {
      // A progress notification that cannot be delivered must never fail the operation.
    }
  };
}

/**
 * 2026-07-28 clients declare capabilities per request; 2025-era clients once, at initialize.
 * A 2025-era client served statelessly over HTTP has no initialize on record, so it cannot be asked.
 */
function clientCanElicit(server: McpServer, ctx: ServerContext): boolean {
  const fromEnvelope = ctx.mcpReq.envelope?.[
    CLIENT_CAPABILITIES_META_KEY as keyof typeof ctx.mcpReq.envelope
  ] as ClientCapabilities | undefined;
  const caps = fromEnvelope ?? server.server.getClientCapabilities();
  const elicitation = caps?.elicitation as { form?: unknown } | undefined;
  if (!elicitation) return false;
  // An empty `elicitation: {}` means form support (the 2025-06-18 shape).
  return Object.keys(elicitation).length === 0 || elicitation.form !== undefined;
}

// The HTTP transport builds a server per request; a tool's schemas never change, so they are converted once per
// tool rather than on every registration. `tools/list` advertises them whole (see json-schema.ts): clients
// validate `structuredContent` against the output schema, and the size budget that matters (what a model is
// shown) counts only name, description and input schema.
// The JSON Schemas of the tools are also converted ahead of time, into tool-schemas.json: converting all of them
// was a tenth of a cold start's CPU time (spawn to the first tools/list answer). test/tool-schemas.test.ts fails
// when that file differs from a conversion made now, and regenerates it with UPDATE_TOOL_SCHEMAS=1.
type McpSchema = StandardSchemaWithJSON<Record<string, unknown>, Record<string, unknown>>;
type Converted = Record<string, { input: Record<string, unknown>; output: Record<string, unknown> }>;
const schemaCache = new WeakMap<AnyTool, { input: McpSchema; output: McpSchema }>();

function convertSchemas(
  tool: AnyTool,
  ahead: Converted[string] | undefined,
): { input: McpSchema; output: McpSchema } {
  const input = tool.confirm ? tool.input.extend({ confirm: ConfirmArg }) : tool.input;
  const output = tool.confirm ? writeEnvelope(tool.output) : tool.output;
  return {
    input: mcpSchema(input, { saysUnknownKeysOnce: true, converted: { input: ahead?.input } }) as McpSchema,
    output: mcpSchema(output, { converted: { output: ahead?.output } }) as McpSchema,
  };
}

/** A tool's schemas as registered; with `converted` (e.g. `{}`), not from tool-schemas.json nor the cache. */
export function schemasOf(tool: AnyTool, converted?: Converted): { input: McpSchema; output: McpSchema } {
  if (converted) return convertSchemas(tool, converted[tool.name]);
  let cached = schemaCache.get(tool);
  if (!cached) {
    cached = convertSchemas(tool, (toolSchemas as Converted)[tool.name]);
    schemaCache.set(tool, cached);
  }
  return cached;
}

export function registerTools(server: McpServer, tools: readonly AnyTool[], deps: RegistryDeps): void {
  const register = timedRegistration(server, deps.telemetry);
  for (const tool of selectTools(tools, deps.config)) {
    const { input, output } = schemasOf(tool);
    register(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: input,
        outputSchema: output,
        annotations: tool.annotations,
      },
      withCallLog(tool.name, server, deps.log, async (args, sdkCtx) => {
        const ctx: ToolContext = {
          tool: tool.name,
          canElicit: clientCanElicit(server, sdkCtx),
          client: deps.client,
          config: deps.config,
          policy: deps.policy,
          state: deps.state,
          signal: sdkCtx.mcpReq.signal,
          progress: makeProgress(sdkCtx),
          mcp: sdkCtx,
          audit: deps.audit,
          stopWaiting: deps.stopWaiting,
          telemetry: deps.telemetry,
          clock: deps.clock,
        };
        // Unmatched policy entries are reported at the first call that can look them up; never fails the call.
        await deps.policy.check();
        if (!tool.confirm) {
          const write = isWriteTool(tool) ? newWriteRecord() : undefined;
          let who: AuditWho | null = null;
          try {
            // Writes that need no confirmation (create_backup) still obey the read-only environment policy.
            if (tool.policyTarget) {
              const t = await tool.policyTarget(args, ctx);
              await refuseIfReadOnly(tool.name, t, ctx);
              who = { app: t.app, environment: t.environment };
            }
            if (write) await refuseIfStoreDown(ctx);
            const out = sanitizeDeep(await tool.handler(args, write ? { ...ctx, write } : ctx));
            if (who && write) auditWrite(deps.audit, tool, who, write, { out });
            return { content: renderContent(tool, out, write), structuredContent: out };
          } catch (error) {
            if (who && write) auditWrite(deps.audit, tool, who, write, { error });
            return afterWrite(
              toErrorResult(error, tool.name, deps.log, checkAfter(write, error)),
              write,
              error,
            );
          }
        }
        // Write tools: nothing reaches the API's write endpoints unless the gate says so.
        let who: AuditWho | null = null;
        const write = newWriteRecord();
        let release = async () => {};
        try {
          const gate = await runGate(tool, args, ctx);
          deps.telemetry?.confirmation(tool.name, gateOutcome(gate));
          if (!gate.proceed) return gate.result;
          release = gate.release;
          const { confirm: _token, ...actionArgs } = args;
          const t = gate.preview.target;
          who = { app: t.app, environment: t.environment, confirmed_by: gate.confirmedBy };
          const out = sanitizeDeep(
            await tool.handler(actionArgs, { ...ctx, confirmation: gate.confirmedBy, write }),
          );
          auditWrite(deps.audit, tool, who, write, { out });
          const { summary, details } = gate.preview;
          return {
            content: renderContent(tool, out, write),
            structuredContent: {
              confirmation_required: false,
              preview: { summary, details },
              confirmation_token: null,
              expires_at: null,
              result: out,
            },
          };
        } catch (error) {
          if (who) auditWrite(deps.audit, tool, who, write, { error });
          return afterWrite(
            toErrorResult(error, tool.name, deps.log, checkAfter(write, error)),
            write,
            error,
          );
        } finally {
          await release();
        }
      }),
    );
  }
}

interface ToolConfig {
  title: string;
  description: string;
  inputSchema: McpSchema;
  outputSchema: McpSchema;
  annotations: ToolAnnotations;
}

type ToolCallback = (
  args: Record<string, unknown>,
  sdkCtx: ServerContext,
) => Promise<CallToolResult | InputRequiredResult>;

/** `server.registerTool`, reporting every answered call, its outcome and duration, to the telemetry if any. */
function timedRegistration(
  server: McpServer,
  telemetry: ToolTelemetry | undefined,
): (name: string, config: ToolConfig, run: ToolCallback) => void {
  return (name, config, run) => {
    server.registerTool(name, config, telemetry ? timed(name, telemetry, run) : run);
  };
}

function timed(name: string, telemetry: ToolTelemetry, run: ToolCallback): ToolCallback {
  return async (args, sdkCtx) => {
    const started = performance.now();
    let outcome: ToolOutcome = 'error';
    try {
      const result = await run(args, sdkCtx);
      outcome = toolOutcome(result);
      return result;
    } finally {
      telemetry.toolCall(name, outcome, (performance.now() - started) / 1000);
    }
  };
}

function toolOutcome(result: CallToolResult | InputRequiredResult): ToolOutcome {
  if ('resultType' in result && result.resultType === 'input_required') return 'input_required';
  const r = result as CallToolResult;
  if (r.isError) return 'error';
  return (r.structuredContent as { confirmation_required?: unknown } | undefined)?.confirmation_required ===
    true
    ? 'confirmation_required'
    : 'ok';
}

function gateOutcome(gate: Awaited<ReturnType<typeof runGate>>): ConfirmationOutcome {
  if (gate.proceed) {
    if (gate.confirmedBy === 'person') return 'confirmed_by_person';
    if (gate.confirmedBy === 'token') return 'confirmed_by_token';
    if (gate.confirmedBy === 'mode-none') return 'unconfirmed_mode_none';
    return 'not_needed';
  }
  const outcome = toolOutcome(gate.result);
  if (outcome === 'input_required') return 'dialog_requested';
  if (outcome === 'confirmation_required') return 'token_issued';
  return 'refused';
}

/**
 * Once a write was sent and may have landed, a later failure's advice points to the read tool that shows it,
 * never to a retry; only a call that sent no write (or whose write is known not to have happened) may be retried.
 */
function checkAfter(write: WriteRecord | undefined, error: unknown): string | undefined {
  return mayHaveLanded(write, error) ? write.checkWith : undefined;
}

function afterWrite(result: CallToolResult, write: WriteRecord | undefined, error: unknown): CallToolResult {
  return {
    ...result,
    content: result.content.map((c) =>
      c.type === 'text' ? { ...c, text: failedAfterWrite(c.text, write, error) } : c,
    ),
  };
}

function renderContent(tool: AnyTool, out: unknown, write?: WriteRecord): CallToolResult['content'] {
  // A write whose answer was lost but was found says so first, so nobody starts it a second time.
  const text = write?.note ? `${write.note}\n${tool.render(out)}` : tool.render(out);
  const content: CallToolResult['content'] = [{ type: 'text', text }];
  if (tool.links) content.push(...tool.links(out));
  return content;
}
