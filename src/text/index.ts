// The one place that turns platform and person text into display text. Everything a tool, resource, prompt
// or error shows that came from Divio or from a person passes through these functions first.
export { FENCE_OPEN, type FenceLabel, fence } from './fence.js';
export { envName, ident, QUOTE_MAX, quote, quoteList, quoteRef, url } from './quote.js';
export { cap, inline, sanitize, sanitizeDeep } from './sanitize.js';
