import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  RateLimitError,
  ResponseFormatError,
  ServerError,
  TimeoutError,
} from '../src/client/index.js';
import { describeError } from '../src/mcp/errors.js';

// Every failure the advice can follow with "try again": once the call's write was sent and may have landed
// (the registry passes the read tool to check with, outcome.ts mayHaveLanded), the advice names that read tool
// and never says to try again or to call the write again; only a call that sent no write is told to retry.
const FAILURES: [string, unknown][] = [
  ['429', new RateLimitError(429, {}, 'Too many requests.')],
  ['5xx', new ServerError(502, {}, 'Bad gateway.')],
  ['timeout', new TimeoutError('POST /apps/v3/backups/ timed out after 30000 ms.', true)],
  [
    'connection',
    new ConnectionError('Could not reach the Divio API at https://api.divio.com: ECONNRESET.', true),
  ],
  ['unexpected format', new ResponseFormatError('POST /apps/v3/backups/ returned a body that is not JSON.')],
  ['internal', new Error('boom')],
];

describe('advice after a failure', () => {
  it.each(FAILURES)('%s after a write that may have landed: check first, never "try again"', (_, error) => {
    const text = describeError(error, 'create_backup', 'list_backups');
    expect(text).not.toMatch(/try again/i);
    expect(text).toMatch(/check with list_backups/i);
    expect(text).toContain('Do not call create_backup again for it.');
  });

  it.each(FAILURES)('%s with no write sent: may be tried again', (_, error) => {
    const text = describeError(error, 'list_backups');
    expect(text).toMatch(/try again/i);
    expect(text).not.toContain('Do not call');
  });
});
