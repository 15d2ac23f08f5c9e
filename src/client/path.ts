import { DivioError } from './errors.js';

/**
 * Tagged template for API paths: every interpolated value is percent-encoded as one path segment, so a value
 * such as `../x` or `a/b` can never change which endpoint is called. Empty, `.` and `..` are rejected outright
 * because even encoded they would address a different resource.
 *
 *   path`/apps/v3/environments/${uuid}/`
 */
export function path(strings: TemplateStringsArray, ...values: ReadonlyArray<string | number>): string {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    const raw = String(values[i]);
    if (raw === '' || raw === '.' || raw === '..') {
      throw new DivioError(`Invalid path parameter ${JSON.stringify(raw)}.`, 'invalid_path_parameter');
    }
    out += encodeURIComponent(raw) + (strings[i + 1] ?? '');
  }
  return out;
}
