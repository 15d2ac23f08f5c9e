import { describe, expect, it } from 'vitest';
import { newestOf, sortNewestFirst, TIMESTAMPS, timestampMicros } from '../src/client/index.js';

describe('timestampMicros', () => {
  it('keeps the microseconds the live API sends, so objects made within one millisecond still compare', () => {
    const a = timestampMicros('2021-07-28T13:02:38.631704Z');
    const b = timestampMicros('2021-07-28T13:02:38.631705Z');
    expect(a).not.toBeNull();
    expect((b as number) - (a as number)).toBe(1);
  });

  it('reads zones, no fraction, and no zone (UTC) alike', () => {
    const utc = timestampMicros('2021-03-01T02:36:37Z');
    expect(timestampMicros('2021-03-01T04:36:37+02:00')).toBe(utc);
    expect(timestampMicros('2021-03-01T04:36:37+0200')).toBe(utc);
    expect(timestampMicros('2021-03-01T02:36:37')).toBe(utc);
    expect(timestampMicros('2021-03-01T02:36:37.000Z')).toBe(utc);
  });

  it('is null for anything that is not an ISO timestamp', () => {
    for (const v of [null, undefined, 42, '', 'yesterday', '2021-13-45T99:00:00Z', { at: 1 }]) {
      expect(timestampMicros(v)).toBeNull();
    }
  });
});

describe('sortNewestFirst', () => {
  const item = (uuid: string, created: string | null) => ({ uuid, created });

  it('orders by time, not by text or input position', () => {
    const items = [
      item('a', '2026-01-01T10:00:00Z'),
      item('b', '2026-01-01T12:00:00+01:00'), // 11:00 UTC
      item('c', '2026-01-01T10:30:00.5Z'),
    ];
    expect(sortNewestFirst(items, TIMESTAMPS.backup).map((i) => i.uuid)).toEqual(['b', 'c', 'a']);
    expect(newestOf(items, TIMESTAMPS.backup)?.uuid).toBe('b');
  });

  it('puts objects without a readable time first (not started yet) and breaks ties by ID', () => {
    const items = [
      item('d', '2026-01-01T10:00:00Z'),
      item('c', null),
      item('b', '2026-01-01T10:00:00Z'),
      item('a', 'garbage'),
    ];
    expect(sortNewestFirst(items, TIMESTAMPS.backup).map((i) => i.uuid)).toEqual(['a', 'c', 'b', 'd']);
    expect(sortNewestFirst([...items].reverse(), TIMESTAMPS.backup).map((i) => i.uuid)).toEqual([
      'a',
      'c',
      'b',
      'd',
    ]);
  });

  it('picks the timestamp each kind of object carries', () => {
    expect(TIMESTAMPS.restore({ started_at: 'x' })).toBe('x');
    expect(TIMESTAMPS.download({ started_at: 'y' })).toBe('y');
    expect(TIMESTAMPS.downloadPart({ queued_at: null, started_at: 'z' })).toBe('z');
    expect(TIMESTAMPS.downloadPart({ queued_at: 'q', started_at: 'z' })).toBe('q');
    expect(newestOf([], TIMESTAMPS.backup)).toBeNull();
  });
});
