// Public surface of the Divio API client. Tools and resources import from here only.

export {
  type CallOptions,
  type ClientObserver,
  DivioClient,
  type DivioClientOptions,
  type HttpMethod,
  parseRetryAfter,
  type Query,
  type QueryValue,
  type RequestOptions,
  type RetryOptions,
} from './client.js';
export { type Clock, systemClock } from './clock.js';
export {
  baseUrlFromZone,
  clientOptionsFromEnv,
  DEFAULT_BASE_URL,
  DEFAULT_USER_AGENT,
  normaliseBaseUrl,
  tokenPageUrl,
  VERSION,
} from './config.js';
export {
  type Credentials,
  findCredentials,
  type ProxySettings,
  parseNetrc,
  proxyFromEnv,
  proxyProblem,
  zoneFromEnv,
} from './credentials.js';
export {
  ApiError,
  type ApiErrorDetails,
  AuthenticationError,
  BadRequestError,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  CrossOriginError,
  DivioError,
  type InferredPath,
  NotFoundError,
  OperationUnavailableError,
  PermissionDeniedError,
  RateLimitError,
  RedirectError,
  ResolutionError,
  type ResolutionKind,
  ResponseFormatError,
  ServerError,
  TimeoutError,
  TOKEN_ENV,
  TOKEN_URL,
  ValidationError,
} from './errors.js';
export {
  type Listing,
  type ListOrder,
  type NewestFirstOptions,
  type NewestFirstPage,
  newestOf,
  sortNewestFirst,
  TIMESTAMPS,
  timestampMicros,
  WHOLE_LIST_MAX_PAGES,
} from './order.js';
export { path } from './path.js';
export { looksLikeId } from './resolve.js';
export type * from './resources.js';
export { INFERRED, METRIC_WINDOWS } from './resources.js';
export * from './schemas.js';
export { type CallStats, currentCall, withCall } from './scope.js';
