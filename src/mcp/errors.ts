import type { CallToolResult } from '@modelcontextprotocol/server';
import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  CrossOriginError,
  currentCall,
  DivioError,
  NotFoundError,
  OperationUnavailableError,
  PermissionDeniedError,
  RateLimitError,
  ResolutionError,
  ResponseFormatError,
  ServerError,
  TimeoutError,
  TOKEN_URL,
  ValidationError,
} from '../client/index.js';
import { ToolError } from '../domain/errors.js';
import { TimeArgumentError } from '../text/format.js';
import { sanitize } from '../text/index.js';
import { CursorError } from './cursor.js';
import type { Logger } from './log.js';

export { ToolError };

/** `page` is the token page of the configured zone, carried by the client's errors. */
const tokenHelp = (page: string) =>
  `Create a token at ${page} and set it as DIVIO_API_TOKEN in the MCP server configuration (or start the server with --sandbox to try it without an account).`;

/** " (tried 3 times)" when the client retried the request (GET and HEAD only); writes are sent once. */
function tried(error: DivioError): string {
  return error.attempts > 1 ? ` (tried ${error.attempts} times)` : '';
}

/**
 * Turns any failure into a result that tells the model what to do next. Never includes a raw body or the
 * token. Values inside messages were quoted where the messages were built; the whole text is sanitized
 * once more here, so no escape or invisible character reaches the model whatever a message holds.
 */
export function describeError(error: unknown, toolName: string, checkWith?: string): string {
  return sanitize(explain(error, toolName, checkWith));
}

/**
 * `checkWith` is set when the call's write was sent and may have landed (registry `checkAfter`, outcome
 * `mayHaveLanded`): then no advice may read as "call the write again", so each retry hint points to the read tool
 * that shows the write's state instead. "Try again" is left only for calls that sent no write.
 */
function explain(error: unknown, toolName: string, checkWith?: string): string {
  const again = (retry: string, instead: string) =>
    checkWith ? `${instead.replace('{check}', checkWith)} Do not call ${toolName} again for it.` : retry;
  if (error instanceof ToolError || error instanceof CursorError || error instanceof TimeArgumentError) {
    return error.message;
  }
  if (error instanceof ResolutionError) {
    return `${error.message} Ask the user which one they mean if it is not clear; do not guess.`;
  }
  if (error instanceof ConfigurationError) {
    return `No Divio API token is configured, so ${toolName} cannot reach Divio. ${tokenHelp(error.tokenPage ?? TOKEN_URL)}`;
  }
  if (error instanceof AuthenticationError) {
    return `Divio rejected the API token (${error.status}). It may be wrong, expired or revoked. ${tokenHelp(error.tokenPage)} Tell the user; retrying will not help.`;
  }
  if (error instanceof PermissionDeniedError) {
    return `The Divio token is not allowed to do this. ${error.message} Ask the user to check that account's access; retrying will not help.`;
  }
  if (error instanceof OperationUnavailableError) {
    // The path was inferred from the API reference's operation name; this API does not serve it there.
    return `${error.message} ${toolName} cannot answer this here; every other tool works as usual. Tell the user; retrying will not help.`;
  }
  if (error instanceof NotFoundError) {
    return `${error.message} Check the identifier; list tools such as list_applications, list_deployments or list_backups show valid ones.`;
  }
  if (error instanceof ValidationError) {
    return `Divio refused the request: ${error.message}`;
  }
  if (error instanceof RateLimitError) {
    const wait = error.retryAfterMs ? ` Wait about ${Math.ceil(error.retryAfterMs / 1000)} s.` : '';
    return `Divio is rate-limiting requests (429)${tried(error)}.${wait} ${again('Try again later; do not loop.', 'Check with {check} later; do not loop.')}`;
  }
  if (error instanceof ServerError) {
    return `Divio's API failed (${error.status})${tried(error)}. This is on Divio's side; ${again('try again in a minute, and check https://status.divio.com if it persists.', 'check with {check} in a minute, and see https://status.divio.com if it persists.')}`;
  }
  if (error instanceof TimeoutError || error instanceof ConnectionError) {
    // The client's message already says what failed and where ("Could not reach the Divio API at ..."); only the
    // fix is added here.
    return `${error.message} Check the network path to the API (proxy variables, firewall) or DIVIO_API_URL, then ${again('try again.', 'check with {check}.')}`;
  }
  if (error instanceof CrossOriginError) {
    return `Refused to follow a pagination link to another host; the cursor may be stale. Start again without cursor.`;
  }
  if (error instanceof ResponseFormatError) {
    return `The Divio API answered in an unexpected format: ${error.message} ${again('Try again; if it persists, report it.', 'Check with {check}; if it persists, report it.')}`;
  }
  if (error instanceof DivioError) {
    return error.message;
  }
  // Unexpected bugs: say so without leaking internals; the details go to the server log.
  return `${toolName} failed unexpectedly (an internal error). Nothing more is known here; the details are in the server's log. ${again('Try again once; if it fails again, report it.', 'Check with {check}; if this repeats, report it.')}`;
}

function isExpected(error: unknown): boolean {
  return (
    error instanceof DivioError ||
    error instanceof ToolError ||
    error instanceof CursorError ||
    error instanceof TimeArgumentError
  );
}

/** The kind of a failure, for the per-call log line: the client's error code, or what the tool layer raised. */
export function errorKind(error: unknown): string {
  if (error instanceof DivioError) return error.code;
  if (error instanceof ToolError) return 'tool_error';
  if (error instanceof CursorError) return 'invalid_cursor';
  if (error instanceof TimeArgumentError) return 'invalid_time';
  return 'internal';
}

export function toErrorResult(
  error: unknown,
  toolName: string,
  log?: Logger,
  checkWith?: string,
): CallToolResult {
  if (!isExpected(error) && log) {
    log.error(`unexpected error in ${toolName}`, {
      tool: toolName,
      error: sanitize(error instanceof Error ? (error.stack ?? error.message) : String(error)),
    });
  }
  const stats = currentCall();
  if (stats) stats.error = errorKind(error);
  return { isError: true, content: [{ type: 'text', text: describeError(error, toolName, checkWith) }] };
}
