import { cap, sanitize } from './sanitize.js';

// How a platform or person value appears inside text we write (previews, dialogs, results, errors).
// The rule that makes our fixed wording impossible to imitate: a value is always on the line of the label
// we wrote for it, and it is either quoted (and so cannot end the quote or the line) or an identifier made
// only of characters that cannot form wording (no spaces, quotes, brackets or line breaks).

/** Default cap for quoted values, in characters. */
export const QUOTE_MAX = 200;

/**
 * A value on one line, in double quotes: sanitized, then written the way JSON writes a string, so a quote,
 * a backslash or a line break inside it shows as `\"`, `\\` or `\n` and can never end the quote or start a
 * new line. Longer values are cut at `max` characters with an ellipsis inside the quotes.
 * `null`/`undefined` become `fallback` (unquoted, our own wording), `(none)` by default.
 */
export function quote(value: string | null | undefined, max = QUOTE_MAX, fallback = '(none)'): string {
  if (value === null || value === undefined) return fallback;
  return JSON.stringify(cap(sanitize(value), max));
}

const IDENT = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;

/**
 * An identifier from the platform (slug, ID, status, type, service prefix, timestamp): shown bare when it is
 * only letters, digits and `. _ : + -` (at most 128, starting with a letter or digit), because such a value
 * cannot carry a space, a quote or a line break; quoted like any other value otherwise.
 */
export function ident(value: string | null | undefined, fallback = '?'): string {
  if (value === null || value === undefined || value === '') return fallback;
  return IDENT.test(value) ? value : quote(value);
}

/** A reference someone typed or the platform named, in messages: `'shop'` when plain, quoted like any value otherwise. */
export function quoteRef(value: string): string {
  return IDENT.test(value) ? `'${value}'` : quote(value);
}

const URL_CHARS = /^https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]{1,4096}$/;

/**
 * A URL from the platform (download links, deployed URLs): bare when it is an http(s) URL made only of the
 * characters URLs allow (RFC 3986: no spaces, quotes or line breaks), so it stays usable as it is;
 * quoted like any other value otherwise.
 */
export function url(value: string | null | undefined, fallback = '(none)'): string {
  if (value === null || value === undefined) return fallback;
  return URL_CHARS.test(value) ? value : quote(value, 4096);
}

/** `app/environment`, each part shown as an identifier. */
export function envName(app: string, environment: string): string {
  return `${ident(app)}/${ident(environment)}`;
}

/** A list of values, each quoted, joined by `, `, at most `max` shown (then "and N more"). */
export function quoteList(values: readonly string[], max = 25): string {
  const shown = values.slice(0, max).map((v) => quote(v, 80));
  const more = values.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}
