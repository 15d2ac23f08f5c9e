import {
  type CallToolResult,
  type InputRequiredResult,
  isInputRequiredResult,
  type McpServer,
  PROTOCOL_VERSION_META_KEY,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { type CallStats, withCall } from '../client/index.js';
import { type Logger, withClientLog } from './log.js';

type Handler = (
  args: Record<string, unknown>,
  ctx: ServerContext,
) => Promise<CallToolResult | InputRequiredResult>;

function outcomeOf(result: CallToolResult | InputRequiredResult): string {
  if (isInputRequiredResult(result)) return 'input_required';
  if (result.isError) return 'error';
  const structured = result.structuredContent as { confirmation_required?: unknown } | undefined;
  return structured?.confirmation_required === true ? 'confirmation_required' : 'ok';
}

/**
 * One log line per tool call: tool, outcome, error kind, duration, how many Divio API requests it made, and the
 * protocol revision. Never an argument value (variable values, confirmation tokens and cursors stay out), never
 * the token. Warnings and errors logged while the call runs also reach its client as `notifications/message`
 * (the SDK sends them only to a 2025-era client, at the level it set with `logging/setLevel`, or to a
 * 2026-07-28 client that asked for them in the request).
 */
export function withCallLog(tool: string, server: McpServer, log: Logger, run: Handler): Handler {
  return async (args, ctx) => {
    const stats: CallStats = { apiRequests: 0 };
    const started = performance.now();
    const send = (level: 'warning' | 'error', data: Record<string, unknown>) =>
      ctx.mcpReq.log(level, data, 'divio-mcp');
    const line = (outcome: string) =>
      log.info('tool call', {
        type: 'tool_call',
        tool,
        outcome,
        ...(outcome === 'error' ? { error: stats.error ?? 'refused' } : {}),
        duration_ms: Math.round(performance.now() - started),
        api_requests: stats.apiRequests,
        protocol:
          (ctx.mcpReq.envelope?.[PROTOCOL_VERSION_META_KEY as keyof typeof ctx.mcpReq.envelope] as
            | string
            | undefined) ?? server.server.getNegotiatedProtocolVersion(),
      });
    try {
      const result = await withCall(stats, () => withClientLog(send, () => run(args, ctx)));
      line(outcomeOf(result));
      return result;
    } catch (error) {
      stats.error ??= 'internal';
      line('error');
      throw error;
    }
  };
}
