import { describe, expect, it } from 'vitest';
import { deployFindings, runtimeFindings } from '../src/domain/findings.js';
import {
  causeWarnings,
  errorEvents,
  groupEvents,
  type LogLineIn,
  levelOf,
  normalisePath,
  notableGroups,
  signatureOf,
  targetOf,
} from '../src/domain/log-analysis.js';

const at = (timestamp: string, service: string, message: string): LogLineIn => ({
  timestamp,
  service,
  message,
});

describe('signatures', () => {
  it('fold the variable parts of paths', () => {
    expect(normalisePath('/products/123/')).toBe('/products/<n>/');
    expect(normalisePath('/posts/hello-world/')).toBe('/posts/<slug>/');
    expect(normalisePath('/tags/security/')).toBe('/tags/<slug>/');
    expect(normalisePath('/v1/orders/')).toBe('/v1/orders/');
    expect(normalisePath('/v1/orders/8/')).toBe('/v1/orders/<n>/');
    expect(normalisePath('/static/css/main.css')).toBe('/static/css/main.css');
    expect(normalisePath('/api/item/0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('/api/item/<id>');
    expect(normalisePath('/search/?q=x')).toBe('/search/?…');
  });

  it('fold IDs, numbers, hex, addresses, times and user agents so one failure is one signature', () => {
    const a = signatureOf(
      "[2026-12-02 09:15:02,123: ERROR/ForkPoolWorker-3] Task orders.tasks.send_confirmation[a3f0c9d1] raised unexpected: OperationalError('x')",
    );
    const b = signatureOf(
      "[2026-12-02 10:01:55,900: ERROR/ForkPoolWorker-1] Task orders.tasks.send_confirmation[0b9e77aa] raised unexpected: OperationalError('x')",
    );
    expect(a).toBe(b);
    expect(a).toContain('orders.tasks.send_confirmation[<id>]');
    expect(signatureOf('ERROR django.request: Internal Server Error: /products/12/')).toBe(
      signatureOf('ERROR django.request: Internal Server Error: /products/877/'),
    );
    expect(signatureOf('gone at 0xdeadbeef for efrlmsafhjeb5htwozkc2sgbd4 from 10.0.3.4:5544')).toBe(
      'gone at <hex> for <id> from <ip>',
    );
    const line = (ip: string, path: string, agent: string) =>
      `${ip} - - [02/Dec/2026:09:15:02 +0000] "GET ${path} HTTP/1.1" 502 145 "-" "${agent}" 12.345s`;
    expect(signatureOf(line('10.1.2.3', '/cart/', 'curl/8.5.0'))).toBe('HTTP 502 GET /cart/');
    expect(signatureOf(line('10.3.9.9', '/products/5/', 'Mozilla/5.0 (X11)'))).toBe(
      signatureOf(line('10.0.0.1', '/products/77/', 'python-requests/2.32.3')),
    );
  });

  it('read levels from level words, 5xx answers and exceptions', () => {
    expect(levelOf('CRITICAL db pool exhausted; retrying')).toBe('critical');
    expect(levelOf('[WARNING] upstream request timed out after 30s')).toBe('warning');
    expect(levelOf('psycopg2.OperationalError: could not connect')).toBe('error');
    expect(levelOf('10.0.0.1 - - [02/Dec/2026:09:15:02 +0000] "GET / HTTP/1.1" 404 12 "-" "x" 0.1s')).toBe(
      'other',
    );
    expect(levelOf('10.0.0.1 - - [02/Dec/2026:09:15:02 +0000] "GET / HTTP/1.1" 504 12 "-" "x" 0.1s')).toBe(
      'error',
    );
    expect(levelOf('[2026-12-02 09:15:02,1: INFO/ForkPoolWorker-1] Task x succeeded')).toBe('other');
    // Python prints a warning the way it prints an exception; it is still a warning
    expect(levelOf('RuntimeWarning: DateTimeField Order.created received a naive datetime')).toBe('warning');
  });

  it('keep the digits of names (psycopg2, v1) and fold the numbers', () => {
    expect(signatureOf('psycopg2.OperationalError: 3 connections on /v1/orders/12/ failed')).toBe(
      'psycopg2.OperationalError: <n> connections on /v1/orders/<n>/ failed',
    );
  });
});

describe('events', () => {
  const traceback = (t: string, path: string) => [
    at(t, 'web', `ERROR django.request: Internal Server Error: ${path}`),
    at(t, 'web', 'Traceback (most recent call last):'),
    at(t, 'web', '  File "/x/base.py", line 289, in ensure_connection'),
    at(t, 'web', '    self.connect()'),
    at(t, 'web', 'psycopg2.OperationalError: could not connect to server: Connection timed out'),
    at(t, 'web', '\tIs the server running on host "shop-live-db.postgres.eu.aldryn.io" and accepting'),
  ];

  it('a traceback under an error line is one event named by its exception, with the host it names', () => {
    const events = errorEvents([
      ...traceback('2026-12-02T09:00:00Z', '/cart/'),
      at('2026-12-02T09:00:01Z', 'web', 'INFO all good'),
      ...traceback('2026-12-02T09:00:02Z', '/products/3/'),
    ]);
    expect(events).toHaveLength(2);
    expect(events[0]?.exception).toBe(
      'psycopg2.OperationalError: could not connect to server: Connection timed out',
    );
    expect(events[0]?.target).toBe('shop-live-db.postgres.eu.aldryn.io');
    const groups = groupEvents(events);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      count: 2,
      first_seen: '2026-12-02T09:00:00Z',
      last_seen: '2026-12-02T09:00:02Z',
    });
  });

  it('a traceback written as one multi-line entry a moment after its error line is the same one event', () => {
    const events = errorEvents([
      at('2026-12-02T09:00:00.000Z', 'web', 'ERROR django.request: Internal Server Error: /v1/orders/8/'),
      at(
        '2026-12-02T09:00:00.001Z',
        'web',
        "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in f\n    y()\nAttributeError: 'NoneType' object has no attribute 'currency'",
      ),
      // more than a second later: another failure, not a continuation
      at('2026-12-02T09:00:02.000Z', 'web', "AttributeError: 'NoneType' object has no attribute 'currency'"),
    ]);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      message: 'ERROR django.request: Internal Server Error: /v1/orders/8/',
      exception: "AttributeError: 'NoneType' object has no attribute 'currency'",
      signature: "AttributeError: 'NoneType' object has no attribute 'currency'",
    });
    expect(groupEvents(events)[0]?.count).toBe(2);
  });

  it('keeps CRITICAL and worker groups even when rarer than the top ones', () => {
    const lines: LogLineIn[] = [];
    for (let i = 0; i < 8; i++)
      for (let j = 0; j <= i; j++)
        lines.push(at(`2026-12-02T09:0${i}:0${j}Z`, 'web', `ERROR kind${'abcdefgh'[i]} failed`));
    lines.push(at('2026-12-02T09:09:00Z', 'web', 'CRITICAL db pool exhausted'));
    lines.push(
      at('2026-12-02T09:09:01Z', 'worker', '[x: ERROR/ForkPoolWorker-1] Task t raised unexpected: E()'),
    );
    const picked = notableGroups(groupEvents(errorEvents(lines)), 5, 10);
    expect(picked.slice(0, 5).map((g) => g.count)).toEqual([8, 7, 6, 5, 4]);
    expect(picked.map((g) => g.level)).toContain('critical');
    expect(picked.some((g) => g.services.includes('worker'))).toBe(true);
    expect(picked).toHaveLength(7);
  });
});

describe('findings', () => {
  const minute = (m: number) => new Date(Date.UTC(2026, 11, 2, 9, m)).toISOString();
  const since = new Date(minute(0));
  // Ages are told against the clock the operation is given, not the machine's.
  const now = Date.UTC(2026, 11, 2, 10, 0);

  it('an error that begins after a quiet stretch started then, and a release just before it is named', () => {
    const lines = [at(minute(0), 'web', 'INFO ok')];
    for (let m = 30; m < 40; m++) lines.push(at(minute(m), 'web', 'ERROR orders broke'));
    const runtime = runtimeFindings(lines, since, 1000, now);
    expect(runtime.quietBefore).toBe(true);
    expect(runtime.findings[0]?.message).toContain(`It started at ${minute(30)} (30m ago)`);
    const released = { uuid: 'rel', success: true, ended_at: minute(25) };
    expect(deployFindings(released, released, runtime, now)).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringMatching(/^The errors started 5m after deployment rel went live/),
      }),
    ]);
    // a failed deploy after it never went live: not the cause, while the release still is
    const failed = { uuid: 'bad', success: false, ended_at: minute(45) };
    const both = deployFindings(failed, released, runtime, now).map((f) => f.message);
    expect(both[0]).toMatch(
      /failed 15m ago \(bad\)\. It never went live: rel \(went live 35m ago\) is still serving, so the failed deploy is not the cause of the runtime errors/,
    );
    expect(both[1]).toMatch(/^The errors started 5m after deployment rel/);
  });

  it('an error that recurs every ten minutes all along did not start at its first line in the scan', () => {
    const lines = [at(minute(0), 'web', 'INFO ok')];
    for (let m = 12; m < 60; m += 10) lines.push(at(minute(m), 'web', 'ERROR orders broke'));
    const runtime = runtimeFindings(lines, since, 1000, now);
    expect(runtime.quietBefore).toBe(false);
    expect(runtime.findings[0]?.message).not.toContain('It started');
    const released = { uuid: 'rel', success: true, ended_at: minute(5) };
    expect(deployFindings(released, released, runtime, now)).toEqual([]);
  });
});

describe('cause warnings', () => {
  it('surface the warning that names what timed out', () => {
    const lines = [
      at(
        '2026-12-02T09:00:00Z',
        'web',
        '[WARNING] upstream request timed out after 30s: GET /v1/orders/4/ -> orders-service:8000',
      ),
      at(
        '2026-12-02T09:00:05Z',
        'web',
        '[WARNING] upstream request timed out after 30s: GET /v1/orders/9/ -> orders-service:8000',
      ),
      at('2026-12-02T09:00:06Z', 'web', 'WARNING django.request: Not Found: /wp-login.php'),
      at('2026-12-02T09:00:07Z', 'web', 'ERROR something timed out'),
    ];
    const causes = causeWarnings(lines);
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatchObject({
      count: 2,
      target: 'orders-service:8000',
      first_seen: '2026-12-02T09:00:00Z',
    });
  });

  it('targets: arrows, host "x", host:port; none in plain text', () => {
    expect(targetOf('GET /x -> orders-service:8000')).toBe('orders-service:8000');
    expect(targetOf('Is the server running on host "db.example" and')).toBe('db.example');
    expect(targetOf('connect to redis.internal:6379 refused')).toBe('redis.internal:6379');
    expect(targetOf('Connection timed out')).toBeNull();
  });
});
