import { inline } from '../text/index.js';

// Error hierarchy for the Divio client. Every error a caller can see is a DivioError, so the tool layer has
// one `instanceof` to check. Messages are written for the person (or model) who has to act on them, and no
// error ever carries the API token: bodies and messages built from server text pass through `redact` first.

/** The token page of the default zone; `tokenPageUrl(zone)` in config.ts gives the one of another zone. */
export const TOKEN_URL = 'https://control.divio.com/account/access-tokens/';
export const TOKEN_ENV = 'DIVIO_API_TOKEN';

export class DivioError extends Error {
  /** Stable machine-readable code, e.g. `not_found`. */
  readonly code: string;
  /**
   * How many times the request was sent before this error was given up on: more than 1 only for a GET or HEAD
   * the client retried. Writes are sent once, so a message may only say "after retries" when this is above 1.
   */
  attempts = 1;

  constructor(message: string, code = 'divio_error', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export interface ApiErrorDetails {
  method?: string | undefined;
  path?: string | undefined;
  /** Parsed `Retry-After`, when the server sent one. */
  retryAfterMs?: number | undefined;
  /** Where a person creates a token for the configured zone (authentication errors). */
  tokenPage?: string | undefined;
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'validation_error';
    case 401:
      return 'authentication_failed';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 429:
      return 'rate_limited';
    default:
      if (status >= 300 && status < 400) return 'redirect';
      return status >= 500 ? 'server_error' : 'api_error';
  }
}

/** The server answered with a non-2xx status. `body` is the parsed, redacted body or a short excerpt. */
export class ApiError extends DivioError {
  readonly status: number;
  readonly body: unknown;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(status: number, body: unknown, message: string, details: ApiErrorDetails = {}) {
    super(message, codeForStatus(status));
    this.status = status;
    this.body = body;
    this.method = details.method;
    this.path = details.path;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** HTTP 400. DRF sends `{field: [messages]}` and/or `{non_field_errors: [...]}`; both are parsed from `body`. */
export class ValidationError extends ApiError {
  readonly fieldErrors: Record<string, string[]>;
  readonly nonFieldErrors: string[];

  constructor(status: number, body: unknown, message: string, details: ApiErrorDetails = {}) {
    super(status, body, message, details);
    const parts = parseDrfError(body);
    this.fieldErrors = parts.fieldErrors;
    this.nonFieldErrors = parts.nonFieldErrors;
  }
}

/** Alias: a 400 is both a "bad request" and a validation failure in DRF. */
export const BadRequestError = ValidationError;
export type BadRequestError = ValidationError;

/** The token was refused: 401, or 403 where the token itself was checked (Divio's CLI treats both alike). */
export class AuthenticationError extends ApiError {
  readonly tokenPage: string;

  constructor(status: number, body: unknown, message: string, details: ApiErrorDetails = {}) {
    super(status, body, message, details);
    this.tokenPage = details.tokenPage ?? TOKEN_URL;
  }
}

/**
 * A redirect that was not followed: any redirect answering a write (it is never re-sent elsewhere), or one on a
 * GET that leaves the configured origin or path prefix, has no usable Location, or goes past the hop limit.
 */
export class RedirectError extends ApiError {}

/**
 * A 404 or 405 on a path this client inferred (the API reference names the operation but no public source shows
 * its path): the operation is missing at that address on this Divio API. `template` is the path with `{uuid}`
 * in place of IDs; nothing else in the server depends on it.
 */
export class OperationUnavailableError extends ApiError {
  override readonly code = 'operation_unavailable';
  readonly operation: string;
  readonly template: string;

  constructor(status: number, body: unknown, inferred: InferredPath, details: ApiErrorDetails = {}) {
    super(
      status,
      body,
      `This operation (${inferred.operation}) is not available at ${details.method ?? 'GET'} ${inferred.template} on this Divio API (HTTP ${status}); the rest of the server is unaffected.`,
      details,
    );
    this.operation = inferred.operation;
    this.template = inferred.template;
  }
}

/** The API reference's operation name and the path this client uses for it, for paths marked inferred. */
export interface InferredPath {
  operation: string;
  template: string;
}

export class PermissionDeniedError extends ApiError {}
export class NotFoundError extends ApiError {}
export class ConflictError extends ApiError {}
export class RateLimitError extends ApiError {}
export class ServerError extends ApiError {}

/**
 * The request failed below HTTP (DNS, refused, reset). `mayHaveReachedServer` is false only when we know the
 * connection was never established; a caller must not blindly repeat a write when it is true.
 */
export class ConnectionError extends DivioError {
  readonly mayHaveReachedServer: boolean;

  constructor(message: string, mayHaveReachedServer: boolean, options?: { cause?: unknown }) {
    super(message, 'connection_error', options);
    this.mayHaveReachedServer = mayHaveReachedServer;
  }
}

export class TimeoutError extends DivioError {
  readonly mayHaveReachedServer: boolean;

  constructor(message: string, mayHaveReachedServer: boolean) {
    super(message, 'timeout');
    this.mayHaveReachedServer = mayHaveReachedServer;
  }
}

/** A pagination link pointed to another origin; following it would send the token elsewhere. */
export class CrossOriginError extends DivioError {
  readonly origin: string;

  constructor(origin: string, expected: string) {
    super(
      `Refusing to follow a link to ${origin}: only ${expected} (the configured API) is allowed.`,
      'cross_origin',
    );
    this.origin = origin;
  }
}

/** The response was not JSON, or did not have the expected shape. */
export class ResponseFormatError extends DivioError {
  constructor(message: string) {
    super(message, 'response_format');
  }
}

export class ConfigurationError extends DivioError {
  /** Set when the missing piece is the token: where to create one for the configured zone. */
  readonly tokenPage: string | undefined;

  constructor(message: string, tokenPage?: string) {
    super(message, 'configuration_error');
    this.tokenPage = tokenPage;
  }
}

export function missingTokenError(tokenPage = TOKEN_URL): ConfigurationError {
  return new ConfigurationError(
    `No Divio API token is configured. Create a token at ${tokenPage} and set the ${TOKEN_ENV} environment variable.`,
    tokenPage,
  );
}

export type ResolutionKind = 'application' | 'environment';

/** An application or environment reference matched nothing (or more than one thing). */
export class ResolutionError extends DivioError {
  readonly kind: ResolutionKind;
  readonly ref: string;
  readonly choices: string[];

  constructor(kind: ResolutionKind, ref: string, choices: string[], message: string) {
    super(message, kind === 'application' ? 'application_not_found' : 'environment_not_found');
    this.kind = kind;
    this.ref = ref;
    this.choices = choices;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers shared by the client: redaction, excerpts, DRF message extraction.

const REDACTED = '[REDACTED]';

/** Replace every occurrence of the token in `text`. Tokens shorter than 4 chars are not realistic. */
export function redact(text: string, token: string | undefined): string {
  if (!token || token.length < 4) return text;
  return text.split(token).join(REDACTED);
}

/** Deep-redact strings (and keys) of a parsed JSON value. */
export function redactDeep(value: unknown, token: string | undefined): unknown {
  if (typeof value === 'string') return redact(value, token);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, token));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redact(k, token)] = redactDeep(v, token);
    return out;
  }
  return value;
}

/** A short, single-line, redacted and sanitized excerpt of arbitrary server text. */
export function excerpt(text: string, token: string | undefined, max = 200): string {
  return inline(redact(text, token), max);
}

function strings(value: unknown[]): string[] {
  return value.filter((v): v is string => typeof v === 'string');
}

/**
 * Collect field errors, flattening DRF's nested shapes into dotted keys:
 * `{items: [{}, {name: ['Required.']}]}` becomes `items.1.name: ['Required.']` (empty `{}` marks a valid item).
 */
function collectFieldErrors(prefix: string, value: unknown, out: Record<string, string[]>, depth = 0): void {
  if (depth > 4) return;
  if (typeof value === 'string') {
    out[prefix] = [...(out[prefix] ?? []), value];
  } else if (Array.isArray(value)) {
    const msgs = strings(value);
    if (msgs.length > 0) out[prefix] = [...(out[prefix] ?? []), ...msgs];
    value.forEach((item, i) => {
      if (item !== null && typeof item === 'object')
        collectFieldErrors(`${prefix}.${i}`, item, out, depth + 1);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectFieldErrors(`${prefix}.${k}`, v, out, depth + 1);
  }
}

export interface DrfErrorParts {
  detail: string | undefined;
  fieldErrors: Record<string, string[]>;
  nonFieldErrors: string[];
}

/** Pull `detail`, `non_field_errors` and `{field: [msgs]}` out of a DRF error body. */
export function parseDrfError(body: unknown): DrfErrorParts {
  const parts: DrfErrorParts = { detail: undefined, fieldErrors: {}, nonFieldErrors: [] };
  if (Array.isArray(body)) {
    parts.nonFieldErrors = strings(body);
    return parts;
  }
  if (body === null || typeof body !== 'object') return parts;
  for (const [key, value] of Object.entries(body)) {
    if (key === 'detail' && typeof value === 'string') parts.detail = value;
    else if (key === 'non_field_errors') {
      if (typeof value === 'string') parts.nonFieldErrors.push(value);
      else if (Array.isArray(value)) parts.nonFieldErrors.push(...strings(value));
    } else if (key !== 'code' && key !== 'status_code') collectFieldErrors(key, value, parts.fieldErrors);
  }
  return parts;
}

/** One human sentence from DRF error parts, or undefined when the body said nothing usable. */
export function drfMessage(parts: DrfErrorParts): string | undefined {
  const pieces: string[] = [];
  if (parts.detail) pieces.push(parts.detail);
  pieces.push(...parts.nonFieldErrors);
  for (const [field, msgs] of Object.entries(parts.fieldErrors)) pieces.push(`${field}: ${msgs.join(' ')}`);
  if (pieces.length === 0) return undefined;
  const text = pieces.join('; ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
