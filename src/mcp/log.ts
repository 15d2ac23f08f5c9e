import { AsyncLocalStorage } from 'node:async_hooks';
import { openSync } from 'node:fs';
import pino from 'pino';

/**
 * The server's log: JSON lines (pino) on stderr, never stdout (on stdio, stdout is the JSON-RPC channel).
 * `--log-file` appends the same lines to a file; stderr then keeps only warnings and errors. Warnings and
 * errors raised while a request runs are also sent to that request's client as MCP `notifications/message`
 * (see `withClientLog`), so a client can show them to the person.
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

/** MCP logging levels (RFC 5424 names) for the two we forward. */
type ClientLevel = 'warning' | 'error';
type ClientLog = (level: ClientLevel, data: LogFields) => Promise<void>;

const clientLog = new AsyncLocalStorage<ClientLog>();

/** Runs `fn` with warnings and errors logged inside it also sent to the client of the current request. */
export function withClientLog<T>(send: ClientLog, fn: () => T): T {
  return clientLog.run(send, fn);
}

export interface LoggerOptions {
  level?: LogLevel | 'silent';
  /** Append every line to this file as well; stderr then gets warnings and errors only. */
  file?: string | undefined;
  /** Where lines go instead of stderr (tests collect them). */
  destination?: { write(line: string): void };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const main = opts.destination ?? pino.destination({ dest: 2, sync: true });
  const options: pino.LoggerOptions = {
    level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const base = opts.file
    ? pino(
        options,
        pino.multistream([
          { level: 'warn', stream: main },
          // Opened here so that a path that cannot be written fails at start (SonicBoom would only emit an
          // event); synchronous appends, so a line is on disk before the process may exit.
          { level, stream: pino.destination({ dest: openSync(opts.file, 'a'), sync: true }) },
        ]),
      )
    : pino(options, main);
  const at =
    (name: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (fields) base[name](fields, msg);
      else base[name](msg);
      if (name === 'warn' || name === 'error') toClient(name === 'warn' ? 'warning' : 'error', msg, fields);
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

function toClient(level: ClientLevel, msg: string, fields: LogFields | undefined): void {
  const send = clientLog.getStore();
  // A notification that cannot be delivered must never fail the request it belongs to.
  send?.(level, { message: msg, ...fields }).catch(() => undefined);
}

/** A logger that drops everything (tests that do not look at the log). */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
