/**
 * A failure an operation reports on purpose, with a message already written for the model (what is wrong and
 * what to do next). The MCP error boundary shows it as it is; resources turn it into a protocol error.
 */
export class ToolError extends Error {
  override name = 'ToolError';
}
