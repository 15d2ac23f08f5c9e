import { describe, expect, it } from 'vitest';
import { ConnectionError, ServerError, TimeoutError, ValidationError } from '../src/client/index.js';
import { defaultServerConfig } from '../src/mcp/config.js';
import {
  createdSince,
  mayHaveLanded,
  newWriteRecord,
  performWrite,
  readAll,
  WriteOutcomeError,
  type WriteSpec,
} from '../src/mcp/outcome.js';
import type { ToolContext } from '../src/mcp/registry.js';
import { FakeClock } from './helpers/clock.js';

// The outcome helper on its own, for the answers the sandbox cannot produce deterministically through a tool
// (a client-side timeout, a 504, a request that never left). The tool paths are in write-outcomes.test.ts.

function context(
  pages: { results: string[]; next: string | null }[] = [],
  clock = new FakeClock(),
): ToolContext {
  let n = 1;
  return {
    clock,
    config: defaultServerConfig({ pollIntervalMs: 0 }),
    signal: new AbortController().signal,
    write: newWriteRecord(),
    client: { getPageByUrl: async () => pages[n++] ?? { results: [], next: null } },
  } as unknown as ToolContext;
}

function spec(
  error: unknown,
  found: (call: number) => string | null,
): WriteSpec<string> & { lookups: number } {
  const s = {
    lookups: 0,
    what: 'the thing on blog/test',
    kind: 'thing',
    send: () => Promise.reject(error),
    handle: (v: string) => v,
    lookup: async () => found(++s.lookups),
    checkWith: 'list_things',
    ifNotDone: 'Do it again if still wanted.',
  };
  return s;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('performWrite', () => {
  it('a timeout whose write is found: returns it and notes that it happened', async () => {
    const ctx = context();
    const s = spec(new TimeoutError('POST timed out', true), () => 'id-1');
    await expect(performWrite(ctx, s)).resolves.toBe('id-1');
    expect(ctx.write).toMatchObject({ state: 'done', handle: 'id-1' });
    expect(ctx.write?.note).toContain('it happened: thing id-1');
  });

  it('a timeout or a 504 whose write is not visible yet cannot tell: Divio may still be handling it', async () => {
    for (const error of [
      new TimeoutError('POST timed out', true),
      new ServerError(504, {}, 'Divio API server error (504)'),
    ]) {
      const ctx = context();
      const s = spec(error, () => null);
      const e = await failure(performWrite(ctx, s));
      expect(e).toBeInstanceOf(WriteOutcomeError);
      expect((e as WriteOutcomeError).outcome).toBe('unknown');
      expect(e.message).toContain('may still be handling it. Check with list_things');
      expect(s.lookups).toBe(2);
      expect(ctx.write?.state).toBe('unknown');
    }
  });

  it('a 502 whose write is not there after two looks did not happen', async () => {
    const ctx = context();
    const s = spec(new ServerError(502, {}, 'x'), () => null);
    const e = (await failure(performWrite(ctx, s))) as WriteOutcomeError;
    expect(e.outcome).toBe('not_done');
    expect(e.message).toMatch(/^The thing on blog\/test did not happen: .*Do it again if still wanted\.$/);
    expect(s.lookups).toBe(2);
  });

  it('the second look finds a write the first missed', async () => {
    const ctx = context();
    const s = spec(new ServerError(502, {}, 'x'), (call) => (call === 2 ? 'late-id' : null));
    await expect(performWrite(ctx, s)).resolves.toBe('late-id');
  });

  it('a request that never left did not happen, without a lookup', async () => {
    const ctx = context();
    const s = spec(new ConnectionError('ECONNREFUSED', false), () => 'never');
    const e = (await failure(performWrite(ctx, s))) as WriteOutcomeError;
    expect(e.outcome).toBe('not_done');
    expect(e.message).toContain('never sent');
    expect(s.lookups).toBe(0);
  });

  it("Divio's refusal is passed on as it is and recorded as not done", async () => {
    const ctx = context();
    const refusal = new ValidationError(400, { name: ['bad'] }, 'Invalid request (400): name: bad');
    const s = spec(refusal, () => 'never');
    expect(await failure(performWrite(ctx, s))).toBe(refusal);
    expect(s.lookups).toBe(0);
    expect(ctx.write?.state).toBe('not_done');
  });

  it('a call stopped while the write was under way could not tell, and never says "try again"', async () => {
    const ctx = context();
    const s = spec(new DOMException('This operation was aborted', 'AbortError'), () => 'never');
    const e = (await failure(performWrite(ctx, s))) as WriteOutcomeError;
    expect(e).toBeInstanceOf(WriteOutcomeError);
    expect(e.outcome).toBe('unknown');
    expect(e.message).toContain('Check with list_things before trying again');
    expect(s.lookups).toBe(0);
    expect(ctx.write?.state).toBe('unknown');
  });

  it('a list too long to read is "could not tell", not "did not happen"', async () => {
    const endless = Array.from({ length: 20 }, (_, i) => ({ results: [`x${i}`], next: `next-${i}` }));
    const ctx = context(endless);
    const s: WriteSpec<string> = {
      ...spec(new ServerError(502, {}, 'x'), () => null),
      lookup: async () =>
        (await readAll(ctx, async () => endless[0] as never)).find((x) => x === 'no') ?? null,
    };
    const e = (await failure(performWrite(ctx, s))) as WriteOutcomeError;
    expect(e.outcome).toBe('unknown');
    expect(e.message).toContain('more than 10 pages');
  });
});

describe('createdSince', () => {
  it('keeps what was stamped since the call, newest first whatever the list order', () => {
    const since = Date.parse('2026-01-01T12:00:00Z');
    const items = [
      { id: 'old', at: '2026-01-01T11:59:59Z' },
      { id: 'a', at: '2026-01-01T12:00:01Z' },
      { id: 'b', at: '2026-01-01T12:00:05Z' },
      { id: 'same', at: '2026-01-01T12:00:00Z' },
      { id: 'no-stamp', at: null },
    ];
    expect(createdSince(items, (i) => i.at, since).map((i) => i.id)).toEqual(['b', 'a', 'same']);
  });
});

describe('the window of "since the call"', () => {
  const at = Date.parse('2026-01-01T12:00:00Z');
  async function windowStart(offset: number | undefined): Promise<number> {
    const ctx = context([], new FakeClock({ start: at }));
    (ctx.client as unknown as { serverClockOffsetMs: number | undefined }).serverClockOffsetMs = offset;
    let since = 0;
    const s = {
      ...spec(new ServerError(502, {}, 'x'), () => 'found'),
      lookup: async (from: number) => {
        since = from;
        return 'found';
      },
    };
    await performWrite(ctx, s);
    return since;
  }

  it("is Divio's clock when its Date header gave the offset, with a margin of the header's resolution", async () => {
    expect(await windowStart(-3_600_000)).toBe(at - 3_600_000 - 2_000);
    expect(await windowStart(0)).toBe(at - 2_000);
  });

  it('is a minute wide when no Date header was seen', async () => {
    expect(await windowStart(undefined)).toBe(at - 60_000);
  });
});

describe('mayHaveLanded (what the error boundary checks before advising anything but a look-up)', () => {
  const sent = (state: 'none' | 'done' | 'not_done' | 'unknown') => ({
    ...newWriteRecord(),
    state,
    checkWith: 'list_deployments (app shop, environment live)',
  });
  it('is true once a write was sent and not settled as not done', () => {
    expect(mayHaveLanded(sent('none'), new ServerError(502, {}, 'bad gateway'))).toBe(true);
    expect(mayHaveLanded(sent('done'), new ServerError(502, {}, 'bad gateway'))).toBe(true);
    expect(mayHaveLanded(sent('unknown'), new Error('bug'))).toBe(true);
  });
  it('is false when no write was sent, it did not happen, or the error is the write outcome itself', () => {
    expect(mayHaveLanded(undefined, new ServerError(502, {}, 'bad gateway'))).toBe(false);
    expect(mayHaveLanded(newWriteRecord(), new ServerError(502, {}, 'bad gateway'))).toBe(false);
    expect(mayHaveLanded(sent('not_done'), new ServerError(502, {}, 'bad gateway'))).toBe(false);
    expect(mayHaveLanded(sent('unknown'), new WriteOutcomeError('unknown', 'could not tell'))).toBe(false);
  });
});
