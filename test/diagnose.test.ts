import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidFromName } from '../src/sandbox/index.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

type Finding = { severity: string; message: string };
type Group = {
  signature: string;
  count: number;
  level: string;
  services: string[];
  first_seen: string;
  target: string | null;
  example: { message: string; exception: string | null };
};
type Out = {
  verdict: string;
  findings: Finding[];
  errors: {
    window_start: string;
    error_events: number;
    first_error_at: string | null;
    groups: Group[];
    causes: { count: number; target: string | null; signature: string }[];
  };
};

const WORKER = /worker/;

// Each situation is seeded in the sandbox (src/sandbox/state.ts, logs.ts) relative to its start:
// shop/live: a failed deploy that never went live, a database storm for 14 minutes, one CRITICAL line;
// api-gateway/live: a release 40 minutes ago, AttributeError tracebacks and worker errors from 2 minutes later;
// api-gateway/staging: upstream timeouts as WARNING lines naming the service; marketing-site/test: nothing wrong.
describe('diagnose_environment reads the evidence like an operator', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  const diagnose = async (app: string, environment: string) => {
    const r = await h.call('diagnose_environment', { app, environment });
    expect(r.isError, textOf(r)).toBeFalsy();
    return { out: r.structuredContent as unknown as Out, text: textOf(r) };
  };
  /** The sandbox's own lines of an environment inside the window the diagnosis scanned. */
  const rawLines = (app: string, environment: string, out: Out) => {
    const from = Date.parse(out.errors.window_start);
    return h.sandbox.state
      .logsFor(uuidFromName(`environment:${app}/${environment}`))
      .filter((l) => l.ms >= from && l.ms <= h.clock.now());
  };

  it('groups by a signature that folds hex IDs, numbers, paths and user agents; a traceback is one failure', async () => {
    const { out, text } = await diagnose('api-gateway', 'live');
    const raw = rawLines('api-gateway', 'live', out);
    const groupOf = (signature: string) => out.errors.groups.find((g) => g.signature === signature);

    // Access lines for /v1/orders/<id>/ answered 500: other IDs, client addresses and agents, one signature.
    const orders = raw.filter((l) => /"GET \/v1\/orders\/\d+\/ HTTP\/1\.1" 500 /.test(l.message));
    const ids = new Set(orders.map((l) => /\/v1\/orders\/(\d+)\//.exec(l.message)?.[1]));
    const agents = new Set(orders.map((l) => /"([^"]+)" [\d.]+s$/.exec(l.message)?.[1]));
    const addresses = new Set(orders.map((l) => l.message.split(' ')[0]));
    expect(ids.size).toBeGreaterThan(1);
    expect(agents.size).toBeGreaterThan(1);
    expect(addresses.size).toBeGreaterThan(1);
    expect(groupOf('HTTP 500 GET /v1/orders/<n>/')?.count).toBe(orders.length);

    // Worker tasks with other hex task IDs, times and worker numbers: one signature.
    const tasks = raw.filter((l) => l.service === 'worker' && l.message.includes('sync_invoice['));
    expect(new Set(tasks.map((l) => /\[([0-9a-f]{8})\]/.exec(l.message)?.[1])).size).toBeGreaterThan(1);
    const worker = out.errors.groups.find((g) => g.signature.includes('sync_invoice'));
    expect(worker?.signature).toBe(
      `[<time>: ERROR/ForkPoolWorker-<n>] Task orders.tasks.sync_invoice[<id>] raised unexpected: AttributeError("'NoneType' object has no attribute 'currency'")`,
    );
    expect(worker?.count).toBe(tasks.length);

    // The error line and the traceback entry written a millisecond later are one failure, named by its exception.
    const failures = raw.filter((l) => l.message.startsWith('ERROR django.request: Internal Server Error'));
    const attribute = out.errors.groups[0];
    expect(attribute).toMatchObject({
      signature: "AttributeError: 'NoneType' object has no attribute 'currency'",
      count: failures.length,
      services: ['web'],
    });
    expect(attribute?.example.message).toMatch(/^ERROR django\.request: Internal Server Error: \/v1\//);
    expect(attribute?.example.exception).toBe(
      "AttributeError: 'NoneType' object has no attribute 'currency'",
    );

    for (const g of out.errors.groups) {
      expect(g.signature).not.toMatch(
        /\/\d+\/|\b10\.\d+\.\d+\.\d+\b|Mozilla|curl\/|python-requests|Googlebot/,
      );
      expect(g.signature).not.toMatch(/\[[0-9a-f]{8}\]|\d{4}-\d{2}-\d{2}/);
    }
    // The groups reach the text inside the untrusted-data fence, most frequent first.
    expect(text).toMatch(
      /\nRuntime errors by signature .*\n.* is runtime log output\..*\n<untrusted-data-[0-9a-f]+>\n\d+x error web AttributeError: 'NoneType' object has no attribute 'currency'\n {2}e\.g\. /,
    );
  });

  it('keeps every CRITICAL and worker group, however rare, beyond the most frequent five', async () => {
    const { out } = await diagnose('shop', 'live');
    const groups = out.errors.groups;
    expect(groups.length).toBeGreaterThan(5);
    const fifth = groups[4]?.count ?? 0;
    // Past the top five, only CRITICAL and worker groups are kept.
    for (const g of groups.slice(5))
      expect(g.level === 'critical' || g.services.some((s) => WORKER.test(s))).toBe(true);
    const critical = groups.find((g) => g.level === 'critical');
    expect(critical).toMatchObject({ signature: 'CRITICAL db pool exhausted; retrying', count: 1 });
    expect(critical?.count).toBeLessThan(fifth);
    expect(groups.indexOf(critical as Group)).toBeGreaterThanOrEqual(5);
    const rareWorker = groups.find((g) => g.services.includes('worker') && g.count < fifth);
    expect(rareWorker?.signature).toMatch(
      /^\[<time>: ERROR\/ForkPoolWorker-<n>\] Task [\w.]+\[<id>\] raised/,
    );
    expect(out.findings).toContainEqual({
      severity: 'error',
      message: expect.stringMatching(/^CRITICAL \(1x, last \S+\): "CRITICAL db pool exhausted; retrying"$/),
    });
    expect(
      out.findings.some(
        (f) => f.severity === 'warning' && f.message.startsWith('Background worker errors too'),
      ),
    ).toBe(true);
  });

  it('surfaces the WARNING that names a cause: the upstream timeout names the service', async () => {
    const { out, text } = await diagnose('api-gateway', 'staging');
    expect(out.errors.causes[0]).toMatchObject({
      target: 'orders-service:8000',
      signature: '[WARNING] upstream request timed out after <n>s: GET /v1/health/ -> orders-service:<n>',
    });
    expect(out.findings).toContainEqual({
      severity: 'warning',
      message: expect.stringMatching(/^\d+ warning\(s\) name a cause of the errors: orders-service:8000 \(/),
    });
    expect(text).toMatch(
      /Warnings naming a cause .*\n.*\n<untrusted-data-[0-9a-f]+>\n\d+x \[WARNING\] upstream/,
    );
  });

  it('says nothing is wrong and gives no Next hint when healthy; a failing one gets the hint', async () => {
    const healthy = await diagnose('marketing-site', 'test');
    expect(healthy.out.verdict).toBe('healthy');
    expect(healthy.out.findings).toEqual([{ severity: 'info', message: 'No problems found.' }]);
    expect(healthy.text).not.toContain('Next:');
    const failing = await diagnose('shop', 'live');
    expect(failing.out.verdict).toBe('failing');
    expect(failing.text).toContain('Next: get_environment_logs');
    // Worst first.
    const rank = { error: 0, warning: 1, info: 2 } as Record<string, number>;
    const ranks = failing.out.findings.map((f) => rank[f.severity] ?? 3);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
  });

  it('shop/live: the failed deploy never went live, so it is not blamed; no release explains the storm', async () => {
    const { out } = await diagnose('shop', 'live');
    const failed = uuidFromName('deployment:shop/live:failed');
    const finding = out.findings.find((f) => f.message.includes(failed));
    expect(finding?.severity).toBe('error');
    expect(finding?.message).toMatch(
      /It never went live: \S+ \(went live .* ago\) is still serving, so the failed deploy is not the cause of the runtime errors\./,
    );
    expect(out.findings.some((f) => f.message.includes('a likely cause'))).toBe(false);
    expect(out.findings).toContainEqual({
      severity: 'info',
      message: expect.stringMatching(/^No release went live in the hour before the errors started/),
    });
  });

  // Changes api-gateway/live, so it runs last.
  it('a deploy that fails after a bad release: the failed one is not blamed, the released one is', async () => {
    const env = uuidFromName('environment:api-gateway/live');
    h.sandbox.control.setDeployOutcome(env, 'failure');
    const post = await fetch(`${h.sandbox.url}/apps/v3/deployments/`, {
      method: 'POST',
      headers: { Authorization: `Token ${h.sandbox.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ environment: env }),
    });
    const failed = ((await post.json()) as { uuid: string }).uuid;
    await h.clock.advance(2_000);

    const { out } = await diagnose('api-gateway', 'live');
    expect(out.verdict).toBe('failing');
    const released = uuidFromName('deployment:api-gateway/live:regression');
    const notCause = out.findings.find((f) => f.message.includes(`(${failed})`));
    expect(notCause?.message).toContain(
      `It never went live: ${released} (went live 40m ago) is still serving, so the failed deploy is not the cause of the runtime errors.`,
    );
    const cause = out.findings.find((f) => f.message.includes('a likely cause'));
    expect(cause).toEqual({
      severity: 'error',
      message: expect.stringMatching(
        new RegExp(
          `^The errors started 2m(\\d+s)? after deployment ${released} went live \\(\\S+\\): a likely cause\\.`,
        ),
      ),
    });
    expect(cause?.message).not.toContain(failed);
  });
});
