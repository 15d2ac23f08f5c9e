import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentVariable } from '../src/client/index.js';
import { diffVariables } from '../src/domain/variables.js';
import { type Harness, startHarness, textOf } from './helpers/harness.js';

type Diff = {
  name: string;
  status: string;
  sensitive: boolean;
  value: string | null;
  other_value: string | null;
  date_modified: string | null;
  other_date_modified: string | null;
};

const v = (name: string, value: string | null, sensitive = false): EnvironmentVariable =>
  ({ uuid: name, name, value, is_sensitive: sensitive, date_modified: '2026-11-01T00:00:00Z' }) as never;

describe('diffVariables', () => {
  it('sorts differences first and never carries a sensitive value', () => {
    const { differences, same } = diffVariables(
      [
        v('A', '1'),
        v('B', 'x'),
        v('S', 'secret-1', true),
        v('T', 'tok', true),
        v('U', null, true),
        v('H', 'h'),
      ],
      [
        v('A', '1'),
        v('B', 'y'),
        v('S', 'secret-2', true),
        v('T', 'tok', true),
        v('U', 'u', true),
        v('O', 'o'),
      ],
    );
    expect(same).toEqual(['A']);
    expect(differences.map((d) => [d.name, d.status])).toEqual([
      ['H', 'only_here'],
      ['O', 'only_there'],
      ['B', 'differs'],
      ['S', 'differs'],
      ['U', 'unknown'],
      ['T', 'same'],
    ]);
    const text = JSON.stringify(differences);
    for (const secret of ['secret-1', 'secret-2', 'tok', '"u"']) expect(text).not.toContain(secret);
    expect(differences.find((d) => d.name === 'B')).toMatchObject({ value: 'x', other_value: 'y' });
  });

  it('a value sensitive on one side only is never shown on either side', () => {
    const { differences } = diffVariables([v('K', 'plain')], [v('K', 'hidden', true)]);
    expect(differences).toEqual([
      expect.objectContaining({
        name: 'K',
        status: 'differs',
        sensitive: true,
        value: null,
        other_value: null,
      }),
    ]);
  });
});

describe('list_environment_variables compare_with, through a real MCP client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const secrets = () =>
    [...h.sandbox.state.environmentVariables.values()].filter((x) => x.is_sensitive).map((x) => x.value);

  it('names the variables only in one environment, the values that differ, and date_modified', async () => {
    h.sandbox.control.setSensitiveValues('returned');
    const r = await h.call('list_environment_variables', {
      app: 'shop',
      environment: 'test',
      compare_with: 'live',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const c = r.structuredContent?.['comparison'] as {
      other_environment: string;
      differences: Diff[];
      same: string[];
    };
    expect(c.other_environment).toBe('live');
    const debug = c.differences.find((d) => d.name === 'DEBUG');
    expect(debug).toMatchObject({ status: 'differs', sensitive: false, value: 'True', other_value: 'False' });
    expect(debug?.date_modified).toMatch(/^\d{4}-/);
    expect(c.differences.find((d) => d.name === 'SECRET_KEY')).toMatchObject({
      status: 'differs',
      sensitive: true,
      value: null,
      other_value: null,
    });
    expect(c.same).toContain('DJANGO_SETTINGS_MODULE');
    const text = textOf(r);
    for (const secret of secrets()) expect(text + JSON.stringify(r.structuredContent)).not.toContain(secret);
    expect(text).toContain('differs: DEBUG=True here, =False in live');
    expect(text).toContain('differs, sensitive (values hidden): SECRET_KEY');
  });

  it('reports a sensitive value as same when equal, unknown when the API withholds it', async () => {
    const env = await h.divio.resolveEnvironment(await h.divio.resolveApplication('shop'), 'test');
    const liveEnv = await h.divio.resolveEnvironment(await h.divio.resolveApplication('shop'), 'live');
    const vars = [...h.sandbox.state.environmentVariables.values()];
    const testKey = vars.find((x) => x.environment === env.uuid && x.name === 'STRIPE_API_KEY');
    const liveKey = vars.find((x) => x.environment === liveEnv.uuid && x.name === 'STRIPE_API_KEY');
    if (!testKey || !liveKey) throw new Error('seed changed');
    testKey.value = liveKey.value;
    h.sandbox.control.setSensitiveValues('returned');
    const same = await h.call('list_environment_variables', {
      app: 'shop',
      environment: 'test',
      compare_with: 'live',
      name: 'STRIPE_API_KEY',
    });
    const c1 = same.structuredContent?.['comparison'] as { differences: Diff[] };
    expect(c1.differences).toEqual([
      expect.objectContaining({ name: 'STRIPE_API_KEY', status: 'same', value: null }),
    ]);
    expect(JSON.stringify(same)).not.toContain(liveKey.value);

    h.sandbox.control.setSensitiveValues('masked');
    const masked = await h.call('list_environment_variables', {
      app: 'shop',
      environment: 'test',
      compare_with: 'live',
      name: 'STRIPE_API_KEY',
    });
    const c2 = masked.structuredContent?.['comparison'] as { differences: Diff[]; note: string | null };
    expect(c2.differences).toEqual([expect.objectContaining({ name: 'STRIPE_API_KEY', status: 'unknown' })]);
    expect(c2.note).toContain('unknown');
    h.sandbox.control.setSensitiveValues('returned');
  });

  it('an unknown environment to compare with is an error naming the valid ones', async () => {
    const r = await h.call('list_environment_variables', {
      app: 'shop',
      environment: 'test',
      compare_with: 'nope',
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('live');
  });
});
