// Log levels a person filters by. The API has no level parameter; its `search_query` (3..32 characters) is the
// one text filter GetEnvironmentLogs and GetEnvironmentLogsOccurrence take, so a level is asked for through it.

export const LOG_LEVELS = ['error', 'warning'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The search term a level is sent as. The API's search is taken to be a case-insensitive substring match
 * (inferred: the reference does not say), so `error` finds `ERROR`, `OperationalError` and `KeyError` lines.
 */
export const LEVEL_SEARCH: Record<LogLevel, string> = { error: 'error', warning: 'warn' };

const LEVEL_PATTERN: Record<LogLevel, RegExp> = {
  error: /error|critical|fatal|exception|traceback/i,
  warning: /warn/i,
};

/** Whether a log line is at `level`: used on a page when the API's one search term went to another filter. */
export function atLevel(message: string, level: LogLevel): boolean {
  return LEVEL_PATTERN[level].test(message);
}
