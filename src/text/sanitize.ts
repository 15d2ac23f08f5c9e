// Platform and person text is hostile until it has passed through here. These functions remove what could
// drive a terminal, hide text or reorder it on screen; `quote.ts` and `fence.ts` decide how it is shown.

// Terminal escape sequences (ECMA-48), in their 7-bit (ESC ...) and 8-bit (C1) forms:
// - strings: OSC (ESC ] / 0x9D, which carries OSC-8 hyperlinks), DCS (ESC P / 0x90), SOS (ESC X / 0x98),
//   PM (ESC ^ / 0x9E) and APC (ESC _ / 0x9F), each up to BEL or ST (ESC \ / 0x9C);
// - CSI (ESC [ / 0x9B) with parameters, intermediates and a final byte (colours, cursor moves, clearing);
// - any other escape: ESC, optional intermediates, one final byte (charset switches, resets).
// An unterminated string sequence is cut at the end of its line, so one stray ESC ] cannot swallow a whole log.
const ESCAPES =
  /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\r\n\u0085\u2028\u2029]*?(?:\x07|\x1b\\|\x9c|(?=[\r\n\u0085\u2028\u2029])|$)|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|\x1b[ -/]*[0-~]?/g;

// Every C0 and C1 control character except tab and newline (line breaks are handled before this runs).
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

// Characters that are invisible or change how the text around them is displayed:
// - \p{Cf}: bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069), marks (U+200E/F, U+061C),
//   zero-width space/joiners (U+200B-200D), word joiner and invisible operators (U+2060-2064), BOM (U+FEFF),
//   soft hyphen, interlinear annotation, Unicode tags (U+E0001, U+E0020-E007F) and the other format characters;
// - the rest of the tag block (U+E0000-E007F), variation selectors (U+FE00-FE0F, U+E0100-E01EF), Mongolian
//   free variation selectors (U+180B-180F), the combining grapheme joiner (U+034F) and the Hangul and
//   braille fillers that render as blank space (U+115F, U+1160, U+3164, U+FFA0, U+2800).
const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: each code point is removed on its own, combining ones included.
  /[\p{Cf}\u{E0000}-\u{E007F}\uFE00-\uFE0F\u{E0100}-\u{E01EF}\u180B-\u180F\u034F\u115F\u1160\u3164\uFFA0\u2800]/gu;

// CR LF, lone CR, NEL (U+0085), line and paragraph separators (U+2028, U+2029), vertical tab and form feed:
// all break a line somewhere, so all become one newline.
const LINE_BREAKS = /\r\n?|[\u0085\u2028\u2029\x0b\x0c]/g;

// A surrogate without its pair is not text; some terminals and JSON parsers choke on it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text of one or more lines, safe to show: terminal escapes (colours, cursor control, OSC-8 links),
 * control characters, and invisible or bidi characters are removed; every kind of line break becomes `\n`;
 * tabs stay. Idempotent. Use it for blocks (logs, build output) before they are fenced, and for the
 * string fields of structured results.
 */
export function sanitize(text: string): string {
  return text
    .replace(ESCAPES, '')
    .replace(LINE_BREAKS, '\n')
    .replace(CONTROLS, '')
    .replace(INVISIBLE, '')
    .replace(LONE_SURROGATE, '\uFFFD');
}

/** Cuts `text` to at most `max` characters (code points), marking the cut with an ellipsis. */
export function cap(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * Sanitized and flattened to one line: every run of whitespace (line breaks, tabs, Unicode spaces) becomes
 * one space, ends trimmed, length capped. For values shown where quotes would be noise (titles, progress
 * messages) and for whole messages whose values were quoted when the message was built.
 */
export function inline(text: string, max = 200): string {
  return cap(sanitize(text).replace(/\s+/g, ' ').trim(), max);
}

/** Sanitizes every string (keys included) of a JSON-like value; other values are kept. */
export function sanitizeDeep<T>(value: T): T {
  return walk(value, 0) as T;
}

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return sanitize(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[sanitize(k)] = walk(v, depth + 1);
  return out;
}
