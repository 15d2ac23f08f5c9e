import { h, svg } from './dom.js';

// Hand-written SVG: a bar chart and a sparkline need a few dozen lines, not a chart library. Every chart has
// a text alternative: an accessible name that says what it shows and a table with the numbers.

export interface Bucket {
  start: string;
  count: number;
}

function timeLabel(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}`;
}

/** Bars of counts over time, the highest one marked "peak" (colour, a label and the accessible name). */
export function histogram(buckets: readonly Bucket[], what: string): HTMLElement {
  const width = 560;
  const height = 120;
  const top = 16;
  const bottom = 18;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const peak = buckets.reduce((best, b, i) => (b.count > (buckets[best]?.count ?? -1) ? i : best), 0);
  const slot = width / Math.max(1, buckets.length);
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const peakBucket = buckets[peak];
  const summary =
    total === 0 || !peakBucket
      ? `${what}: none in the window.`
      : `${what}: ${total} in all; peak ${peakBucket.count} at ${timeLabel(peakBucket.start)} UTC.`;
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': summary },
    svg('line', { class: 'axis', x1: 0, x2: width, y1: height - bottom, y2: height - bottom }),
    ...buckets.map((b, i) => {
      const barHeight = ((height - top - bottom) * b.count) / max;
      const isPeak = total > 0 && i === peak;
      return svg(
        'rect',
        {
          class: isPeak ? 'bar peak' : 'bar',
          x: (i * slot + 1).toFixed(1),
          y: (height - bottom - barHeight).toFixed(1),
          width: Math.max(1, slot - 2).toFixed(1),
          height: barHeight.toFixed(1),
          'data-count': b.count,
          'data-start': b.start,
        },
        svg('title', null, `${timeLabel(b.start)} UTC: ${b.count}`),
      );
    }),
    total > 0 && peakBucket
      ? svg(
          'text',
          { x: Math.min(width - 60, peak * slot), y: 11, class: 'peak-label' },
          `▼ peak ${peakBucket.count}`,
        )
      : null,
    buckets.length > 0 ? svg('text', { x: 0, y: height - 4 }, timeLabel(buckets[0]?.start ?? '')) : null,
    buckets.length > 1
      ? svg('text', { x: width, y: height - 4, 'text-anchor': 'end' }, timeLabel(buckets.at(-1)?.start ?? ''))
      : null,
  );
  return h(
    'figure',
    null,
    chart,
    h(
      'table',
      { class: 'sr-only' },
      h('caption', null, summary),
      h('tr', null, h('th', null, 'from (UTC)'), h('th', null, 'count')),
      ...buckets.map((b) => h('tr', null, h('td', null, timeLabel(b.start)), h('td', null, b.count))),
    ),
  );
}

/** A small line of values with its label and unit; the accessible name carries the numbers. */
export function sparkline(values: readonly number[], label: string): SVGElement {
  const width = 160;
  const height = 32;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const step = width / Math.max(1, values.length - 1);
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`)
    .join(' ');
  return svg(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, width: '100%', height, role: 'img', 'aria-label': label },
    svg('polyline', { class: 'spark', points }),
  );
}
