import { truncateLine } from '../text/format.js';
import { sanitize } from '../text/index.js';

const FAILURE =
  /\b(error|failed|failure|exception|traceback|fatal|exit code [1-9]|returned a non-zero code)\b/i;

export function logLines(text: string): string[] {
  const lines = sanitize(text)
    .split('\n')
    .map((l) => truncateLine(l));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The part of a failed deploy log that explains the failure: from a little before the
 * first failure marker of the last failing block to the end, capped.
 */
export function failingExcerpt(text: string, maxLines = 40): { lines: string[]; startLine: number } {
  const lines = logLines(text);
  let last = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (FAILURE.test(lines[i] ?? '')) {
      last = i;
      break;
    }
  }
  if (last === -1) {
    const start = Math.max(0, lines.length - 15);
    return { lines: lines.slice(start), startLine: start + 1 };
  }
  // Walk back over the contiguous failing block (tracebacks, pip output) to its start.
  let first = last;
  while (first > 0 && last - first < maxLines && FAILURE.test(lines[first - 1] ?? '')) first--;
  const start = Math.max(0, first - 8, lines.length - maxLines);
  return { lines: lines.slice(start), startLine: start + 1 };
}
