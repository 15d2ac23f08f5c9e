import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { ConfirmArg } from '../src/mcp/confirm.js';
import type { AnyTool } from '../src/mcp/registry.js';
import { type RequestLogEntry, startSandbox } from '../src/sandbox/index.js';
import { matchRoute } from '../src/sandbox/routes.js';
import { allTools } from '../src/tools/index.js';
import {
  type Harness,
  type HarnessOptions,
  startHarness,
  type ToolResult,
  textOf,
} from './helpers/harness.js';

/*
 * Property-based tests over every tool's input schema and every resource template, through a real MCP client
 * against the sandbox. Arguments are derived from each tool's zod input schema (field kinds, bounds, patterns)
 * and mixed with values known to the sandbox and hostile ones. Whatever comes in:
 *  - the server answers (a result or an `isError` result naming an argument or a tool), never an internal
 *    error, and the connection stays usable;
 *  - every API request goes to the sandbox's origin, to a known endpoint, with each path segment encoded;
 *  - nothing writes without confirmation.
 * Runs are seeded (FC_SEED overrides, FC_RUNS scales the run counts) and a failure prints the seed and the
 * shrunk counterexample, which then becomes a regular regression test at the end of this file.
 */

const SEED = Number(process.env['FC_SEED'] ?? 20261202);
const SCALE = Number(process.env['FC_RUNS'] ?? 1);
const TIMEOUT = 30_000 * Math.max(1, SCALE);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const params = (n: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs(n), endOnFailure: false });

// fc.stringMatching parses its pattern and builds the string's shrink slices each time it is called, and the
// argument builders below are called once per run: build each pattern's arbitrary once (same values, same seed).
const matchingArbitraries = new Map<string, fc.Arbitrary<string>>();
const matching = (pattern: RegExp): fc.Arbitrary<string> => {
  const key = `${pattern.source}/${pattern.flags}`;
  let arbitrary = matchingArbitraries.get(key);
  if (!arbitrary) {
    arbitrary = fc.stringMatching(pattern);
    matchingArbitraries.set(key, arbitrary);
  }
  return arbitrary;
};

const TOOL_NAMES = allTools.map((t) => t.name);
const toolNamed = (name: string): AnyTool => {
  const tool = allTools.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool;
};
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// Writes that need no confirmation by design (README: create_backup policy): only a backup may be created.
const UNCONFIRMED_WRITES: Record<string, string[]> = { create_backup: ['POST /apps/v3/backups/'] };

// ---------------------------------------------------------------------------------------------------------
// Observing every request the Divio client makes, and a second loopback origin that must never be called.

interface Sent {
  origin: string;
  method: string;
  path: string;
}

function recordingDispatcher(sent: Sent[]): { dispatcher: Dispatcher; close: () => Promise<void> } {
  const agent = new Agent();
  const dispatcher = agent.compose((dispatch) => (opts, handler) => {
    sent.push({ origin: String(opts.origin), method: String(opts.method), path: String(opts.path) });
    return dispatch(opts, handler);
  });
  return { dispatcher, close: () => agent.close() };
}

async function startEvil(): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end('{"count":0,"next":null,"previous":null,"results":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// RFC 3986 pchar: unreserved, sub-delims, ':' and '@', or a percent-encoded octet.
const PCHAR = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*$/;
const QUERY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

/** Why a request the client sent is wrong, or null. */
function badRequest(s: Sent, origin: string): string | null {
  if (s.origin !== origin) return `went to ${s.origin}, not the sandbox`;
  const q = s.path.indexOf('?');
  const pathname = q === -1 ? s.path : s.path.slice(0, q);
  const query = q === -1 ? '' : s.path.slice(q + 1);
  if (!QUERY.test(query)) return 'query is not encoded';
  return badPath(pathname);
}

/** Why a request path is wrong (not absolute, `//`, a dot segment, unencoded, no such endpoint), or null. */
function badPath(pathname: string): string | null {
  if (!pathname.startsWith('/')) return 'path is not absolute';
  const segments = pathname.slice(1).split('/');
  for (const [i, seg] of segments.entries()) {
    if (seg === '' && i !== segments.length - 1) return 'empty path segment (//)';
    if (!PCHAR.test(seg)) return `segment ${JSON.stringify(seg)} is not encoded`;
    const decoded = seg.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') return `dot segment ${JSON.stringify(seg)}`;
  }
  // Literal segments are plain words; any segment with an escape or a dot stands where an identifier goes.
  const shape = segments.map((seg) => (/[%.]/.test(seg) ? 'x' : seg)).join('/');
  // The client sends some GETs without the trailing slash, as Divio's CLI does (the API redirects them).
  if (!matchRoute(`/${shape}`) && !matchRoute(`/${shape}/`)) return `no such API endpoint: ${pathname}`;
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Values: what the sandbox knows, and what an attacker or a confused model sends.

interface Known {
  apps: string[];
  envs: string[];
  /** Every identifier seen in list results (apps, environments, deployments, backups, ...). */
  ids: string[];
  /** next_cursor values handed out by list tools, used with any tool (a swap) and tampered with. */
  cursors: string[];
  orgs: string[];
  evil: string;
  sandbox: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

const FRAGMENTS = [
  '',
  ' ',
  '.',
  '..',
  '../',
  '..\\',
  '../../etc/passwd',
  'shop/../blog',
  'test/../../iam/v3/me',
  '%2e%2e',
  '%2E%2E%2F',
  '..%2f',
  '%252e%252e',
  '/',
  '//',
  '//evil.example/x',
  'https://evil.example/x',
  'http://127.0.0.1:1/',
  'javascript:alert(1)',
  'file:///etc/passwd',
  '?',
  '#',
  '?page=2',
  '&a=b',
  '%',
  '%zz',
  '%00',
  '\u0000',
  '\r\n',
  '\r\nX-Injected: 1',
  '\t',
  '\u001b[31m',
  '\u007f',
  '\u202e',
  '\u2066',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u2028',
  'Ｓｈｏｐ',
  '🙂',
  '\ud800',
  '"',
  "'",
  '`',
  '<script>',
  '$' + '{x}',
  '{{app}}',
  '*',
  '~',
  'NaN',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'live',
  'test',
  'shop',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...FRAGMENTS), weight: 4 },
  {
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 8 })), { maxLength: 6 })
      .map((parts) => parts.join('')),
    weight: 4,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ minLength: 190, maxLength: 260 }), weight: 1 },
  {
    arbitrary: fc.constantFrom('a'.repeat(100_000), '../'.repeat(5_000), '\u202e'.repeat(3_000)),
    weight: 1,
  },
);

/** Strings shaped like identifiers: dashed hex, 26-character base32, and near misses of each. */
const idLookalike: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => u.replaceAll('-', '')),
  fc.uuid().map((u) => u.slice(0, -1)),
  fc.uuid().map((u) => `${u}0`),
  fc.uuid().map((u) => ` ${u} `),
  fc.stringMatching(/^[0-9a-hjkmnp-tv-z]{26}$/),
  fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  fc.stringMatching(/^[0-9a-z]{25,27}$/),
  fc.stringMatching(/^[ilou0-9]{26}$/),
  fc.stringMatching(/^[0-9a-f-]{32,36}$/),
  fc.constant('00000000-0000-0000-0000-000000000000'),
);

function mutate(value: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(value),
    fc.constant(value.toUpperCase()),
    fc.constant(value.slice(0, -1)),
    fc.constant(`${value}x`),
    fc.constant(`${value}/..`),
    fc.constant(`../${value}`),
    fc.constant(`${value}\u200b`),
    fc.constant(`\u202e${value}`),
    fc.constant(encodeURIComponent(`../${value}`)),
    fc
      .nat({ max: Math.max(0, value.length - 1) })
      .chain((i) =>
        fc
          .constantFrom('0', 'z', '-', '/', '%', '.')
          .map((c) => `${value.slice(0, i)}${c}${value.slice(i + 1)}`),
      ),
  );
}

function pickMutated(values: string[]): fc.Arbitrary<string> {
  return values.length === 0 ? idLookalike : fc.constantFrom(...values).chain(mutate);
}

function forgedCursors(k: Known): fc.Arbitrary<string> {
  const urls = [
    `${k.evil}/apps/v3/applications/`,
    `${k.evil}/apps/v3/deployments/?page=2`,
    'https://evil.example/apps/v3/applications/?page=2',
    `//127.0.0.1:${new URL(k.evil).port}/apps/v3/applications/`,
    `${k.sandbox.replace('http:', 'https:')}/apps/v3/applications/`,
    `http://user:pass@${new URL(k.sandbox).host}/apps/v3/applications/`,
    `${k.sandbox}@evil.example/apps/v3/applications/`,
  ];
  const sameOrigin = [
    `${k.sandbox}/apps/v3/../../iam/v3/me/`,
    `${k.sandbox}//apps/v3/applications/`,
    `${k.sandbox}/apps/v3/applications/%2e%2e/`,
    `${k.sandbox}/apps/v3/environment-variables/?environment=x`,
  ];
  return fc.oneof(
    fc.constantFrom(...urls, ...sameOrigin),
    fc.constantFrom(...urls, ...sameOrigin).map(b64),
    fc.constantFrom(...urls, ...sameOrigin).map((u) => b64(JSON.stringify({ url: u, next: u, u }))),
    fc.constantFrom(...urls, ...sameOrigin).map((u) => Buffer.from(u).toString('base64')),
  );
}

function cursorValues(k: Known): fc.Arbitrary<string> {
  return fc.oneof(
    ...(k.cursors.length > 0 ? [{ arbitrary: pickMutated(k.cursors), weight: 3 }] : []),
    { arbitrary: forgedCursors(k), weight: 3 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', minLength: 1900, maxLength: 2100 }), weight: 1 },
  );
}

const forgedToken: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc
    .tuple(
      fc.integer({ min: 0, max: 9_999_999_999 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    )
    .map(([exp, a, s, mac]) => `v1.${exp}.${a}.${s}.${mac}`),
  fc.constantFrom('v1....', 'v1.9999999999...', 'true', 'yes', 'confirmed'),
);

/** Values a field of this name means, when the sandbox or the domain gives it a meaning. */
function semantic(field: string, k: Known): fc.Arbitrary<unknown> | null {
  switch (field) {
    case 'app':
      return fc.oneof(fc.constantFrom(...k.apps), pickMutated(k.apps), pickMutated(k.ids));
    case 'environment':
      return fc.oneof(fc.constantFrom(...k.envs), pickMutated(k.envs), pickMutated(k.ids));
    case 'organisation':
      return fc.oneof(fc.constantFrom(...k.orgs), pickMutated(k.orgs));
    case 'deployment':
    case 'backup':
      return fc.oneof(pickMutated(k.ids), idLookalike);
    case 'cursor':
      return cursorValues(k);
    case 'confirm':
      return forgedToken;
    case 'since':
    case 'until':
      return fc.oneof(
        fc.constantFrom('15m', '1h', '2d', '0m', '-1h', '99999d', '1y', '1e9h', 'now', 'yesterday'),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.constantFrom(
          '2026-13-45T99:99:99Z',
          '0000-00-00',
          '1970-01-01T00:00:00Z',
          '+275760-09-13T00:00:00Z',
        ),
      );
    case 'name':
      return fc.constantFrom('DEBUG', 'ALLOWED_HOSTS', 'SECRET_KEY', 'lower_case', 'A'.repeat(255), 'shop');
    case 'service':
    case 'services':
      return fc.constantFrom('database', 'storage', 'web', 'worker', 'cronjob', 'db', 'stor');
    case 'build_mode':
      return fc.constantFrom('AUTO', 'ADOPT', 'FORCE', 'auto', 'force ', '');
    default:
      return null;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: zod's internal definition is walked generically.
type Def = any;

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Values of the field's declared kind, within and just outside its declared bounds. */
function byKind(def: Def, field: string, k: Known): fc.Arbitrary<unknown> {
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return byKind(defOf(def.innerType), field, k);
    case 'pipe':
      return byKind(defOf(def.in), field, k);
    case 'string': {
      const checks = (def.checks ?? []).map((c: Def) => c._zod.def);
      const min = checks.find((c: Def) => c.check === 'min_length')?.minimum ?? 0;
      const max = checks.find((c: Def) => c.check === 'max_length')?.maximum ?? 300;
      const pattern = checks.find((c: Def) => c.format === 'regex')?.pattern as RegExp | undefined;
      const own = semantic(field, k);
      return fc.oneof(
        { arbitrary: own ?? fc.string({ minLength: min, maxLength: Math.min(max, 60) }), weight: 6 },
        ...(pattern ? [{ arbitrary: matching(pattern), weight: 2 }] : []),
        { arbitrary: hostileString, weight: 3 },
        { arbitrary: fc.string({ minLength: max, maxLength: max + 2 }), weight: 1 },
      );
    }
    case 'number': {
      const checks = (def.checks ?? []).map((c: Def) => c._zod.def);
      const min = checks.find((c: Def) => c.check === 'greater_than')?.value ?? -1e6;
      const max = checks.find((c: Def) => c.check === 'less_than')?.value ?? 1e6;
      return fc.oneof(
        { arbitrary: fc.integer({ min, max: Math.min(max, min + 50) }), weight: 4 },
        { arbitrary: fc.integer({ min, max }), weight: 2 },
        {
          arbitrary: fc.constantFrom(min - 1, max + 1, 0.5, -0, Number.MAX_SAFE_INTEGER + 2, -1e308, 1e308),
          weight: 1,
        },
        { arbitrary: fc.double(), weight: 1 },
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'enum': {
      const options = Object.values(def.entries) as string[];
      return fc.oneof(
        { arbitrary: fc.constantFrom(...options), weight: 4 },
        { arbitrary: hostileString, weight: 1 },
      );
    }
    case 'array':
      return fc.oneof(
        fc.array(byKind(defOf(def.element), field, k), { maxLength: 4 }),
        fc.array(fc.constant('database'), { minLength: 20, maxLength: 40 }),
      );
    default:
      return fc.jsonValue();
  }
}

function deep(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.integer({ min: 1, max: 500 }).map(deep),
);

const OMIT = Symbol('omit');

function inputShape(tool: AnyTool): Record<string, z.ZodType> {
  const shape = { ...(tool.input.shape as Record<string, z.ZodType>) };
  if (tool.confirm) shape['confirm'] = ConfirmArg;
  return shape;
}

function isOptional(schema: z.ZodType): boolean {
  const t = defOf(schema).type;
  return t === 'optional' || t === 'default';
}

/** A value the sandbox knows for this field, of the declared kind and within bounds (no tampering). */
function meaningful(def: Def, field: string, k: Known): fc.Arbitrary<unknown> {
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return meaningful(defOf(def.innerType), field, k);
    case 'pipe':
      return meaningful(defOf(def.in), field, k);
    case 'number': {
      const checks = (def.checks ?? []).map((c: Def) => c._zod.def);
      const min = checks.find((c: Def) => c.check === 'greater_than')?.value ?? 0;
      const max = checks.find((c: Def) => c.check === 'less_than')?.value ?? 100;
      // Small waits and pages keep the runs fast; the bounds themselves are covered by the hostile values.
      if (field === 'wait_seconds') return fc.constantFrom(0, 0, 1);
      return fc.integer({ min, max: Math.min(max, min + 3) });
    }
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...(Object.values(def.entries) as string[]));
    case 'array':
      return fc.array(meaningful(defOf(def.element), field, k), { maxLength: 2 });
    default:
      break;
  }
  const pick = (values: string[], fallback: string[]) =>
    fc.constantFrom(...(values.length ? values : fallback));
  switch (field) {
    case 'app':
      return pick(k.apps, ['shop']);
    case 'environment':
      return pick(k.envs, ['test']);
    case 'organisation':
      return pick(k.orgs, ['acme']);
    case 'deployment':
    case 'backup':
      return pick(k.ids, ['0']);
    case 'cursor':
      return pick(k.cursors, ['0']);
    case 'confirm':
      return forgedToken;
    default:
      return semantic(field, k) ?? matching(/^[a-z][a-z0-9_-]{2,12}$/);
  }
}

/** Anything for this field: hostile strings, out-of-bound numbers, the wrong type. */
function hostile(def: Def, field: string, k: Known): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: byKind(def, field, k), weight: 5 }, { arbitrary: wrongType, weight: 1 });
}

const extraKeys: fc.Arbitrary<[string, unknown][]> = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'confirm', 'params', 'token', 'url'),
      fc.string({ maxLength: 10 }),
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  { minLength: 1, maxLength: 3 },
);

function build(
  pairs: readonly (readonly [string, unknown])[],
  extras: [string, unknown][],
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [name, v] of pairs) if (v !== OMIT) args[name] = v;
  // defineProperty, so that `__proto__` becomes an own key as it would be in parsed JSON.
  for (const [name, v] of extras)
    Object.defineProperty(args, name, { value: v, enumerable: true, writable: true });
  return args;
}

/**
 * Arguments for one tool, in three mixes: every field meaningful (reaches the handlers and the API), one field
 * hostile among meaningful ones (a single bad value travels as far as it can), and every field free (omitted,
 * hostile or of the wrong type, with unknown keys).
 */
function argsFor(tool: AnyTool, k: Known): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(inputShape(tool));
  const good = entries.map(([name, schema]) =>
    fc
      .oneof(
        { arbitrary: meaningful(defOf(schema), name, k), weight: 4 },
        // `confirm` is left out most of the time: a forged token is one of the hostile values.
        { arbitrary: fc.constant(OMIT), weight: isOptional(schema) ? (name === 'confirm' ? 8 : 2) : 0 },
      )
      .map((v) => [name, v] as const),
  );
  const free = entries.map(([name, schema]) =>
    fc
      .oneof(
        { arbitrary: hostile(defOf(schema), name, k), weight: 6 },
        { arbitrary: fc.constant(OMIT), weight: isOptional(schema) ? 3 : 1 },
      )
      .map((v) => [name, v] as const),
  );
  const oneBad = fc.tuple(fc.tuple(...good), fc.nat({ max: entries.length - 1 })).chain(([pairs, i]) => {
    const [name, schema] = entries[i] as [string, z.ZodType];
    return hostile(defOf(schema), name, k).map((v) =>
      pairs.map((p, j) => (j === i ? ([name, v] as const) : p)),
    );
  });
  return fc.oneof(
    { arbitrary: fc.tuple(...good).map((pairs) => build(pairs, [])), weight: 3 },
    { arbitrary: oneBad.map((pairs) => build(pairs, [])), weight: 4 },
    {
      arbitrary: fc
        .tuple(
          fc.tuple(...free),
          fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: extraKeys, weight: 1 }),
        )
        .map(([pairs, extras]) => build(pairs, extras as [string, unknown][])),
      weight: 2,
    },
  );
}

// ---------------------------------------------------------------------------------------------------------
// What every answer must be.

const INTERNAL =
  /failed unexpectedly|internal error|Output validation error|is not a function|Cannot read properties/i;

function argNames(tool: AnyTool): string[] {
  return Object.keys(inputShape(tool));
}

/** Actionable: the text names one of the call's arguments, a tool or resource to use instead, or the valid values. */
function actionable(text: string, args: readonly string[]): boolean {
  return (
    TOOL_NAMES.some((n) => text.includes(n)) ||
    text.includes('divio://') ||
    /\bValid [\w ]+: \S/.test(text) ||
    args.some((a) => new RegExp(`(^|[^A-Za-z0-9_])${a}([^A-Za-z0-9_]|$)`, 'i').test(text))
  );
}

interface Scene {
  era: 'legacy' | 'modern';
  h: Harness;
  sent: Sent[];
  evil: { url: string; hits: string[]; close: () => Promise<void> };
  known: Known;
  close: () => Promise<void>;
}

async function collect(
  h: Harness,
  calls: [string, Record<string, unknown>][],
): Promise<{ ids: string[]; cursorsByTool: Record<string, string[]> }> {
  const ids = new Set<string>();
  const cursorsByTool: Record<string, string[]> = {};
  for (const [name, args] of calls) {
    const walk = (v: unknown, key = ''): void => {
      if (typeof v === 'string') {
        if (key === 'next_cursor') cursorsByTool[name] = [...(cursorsByTool[name] ?? []), v];
        else if (key === 'uuid' || key.endsWith('_uuid')) ids.add(v);
      } else if (Array.isArray(v)) {
        for (const x of v) walk(x, key);
      } else if (v && typeof v === 'object') for (const [kk, x] of Object.entries(v)) walk(x, kk);
    };
    walk((await h.call(name, args)).structuredContent);
  }
  return { ids: [...ids], cursorsByTool };
}

async function scene(opts: HarnessOptions): Promise<Scene> {
  const sent: Sent[] = [];
  const rec = recordingDispatcher(sent);
  const evil = await startEvil();
  const h = await startHarness({ ...opts, dispatcher: rec.dispatcher });
  const { ids, cursorsByTool } = await collect(h, [
    ['list_organisations', { limit: 1 }],
    ['list_applications', { limit: 2 }],
    ['get_application', { app: 'shop' }],
    ['list_deployments', { app: 'shop', limit: 2 }],
    ['list_backups', { app: 'blog', environment: 'test', limit: 2 }],
    ['list_environment_variables', { app: 'blog', environment: 'test', limit: 1 }],
    ['list_domains', { app: 'shop', limit: 1 }],
    ['list_service_instances', { app: 'shop', environment: 'live', limit: 1 }],
    ['list_cronjobs', { app: 'shop', environment: 'live', limit: 1 }],
    ['get_environment_logs', { app: 'shop', environment: 'live', limit: 1 }],
  ]);
  const orgs = h.sandbox.state.organisations;
  const known: Known = {
    apps:
      h.sandbox.state.applications.size > 0
        ? [...h.sandbox.state.applications.values()].map((a) => a.slug)
        : ['shop'],
    envs: ['test', 'live', 'staging'],
    ids,
    cursors: Object.values(cursorsByTool).flat(),
    orgs: [...orgs.values()].flatMap((o) => [o.uuid, String(o.name)]),
    evil: evil.url,
    sandbox: h.sandbox.url,
  };
  return {
    era: opts.era ?? 'modern',
    h,
    sent,
    evil,
    known,
    close: async () => {
      await h.close();
      await rec.close();
      await evil.close();
    },
  };
}

interface Mark {
  sent: number;
  log: number;
  lines: number;
}

const mark = (s: Scene): Mark => ({
  sent: s.sent.length,
  log: s.h.sandbox.requestLog.length,
  lines: s.h.logs.length,
});

/** The invariants of one call: only the sandbox, only encoded known endpoints, no crash, still connected. */
async function checkAfter(s: Scene, m: Mark, allowedWrites: readonly string[], what: string): Promise<void> {
  for (const r of s.sent.slice(m.sent)) {
    const bad = badRequest(r, s.h.sandbox.url);
    if (bad) throw new Error(`${what}: ${r.method} ${r.path}: ${bad}`);
  }
  expect(s.evil.hits, `${what}: the second origin was called`).toEqual([]);
  // What arrived, as the sandbox parsed it: the same checks on the server side of the wire.
  for (const e of s.h.sandbox.requestLog.slice(m.log)) {
    const bad = badPath(e.path);
    if (bad) throw new Error(`${what}: the sandbox received ${e.method} ${e.path}: ${bad}`);
  }
  const writes = s.h.sandbox.requestLog
    .slice(m.log)
    .filter((e: RequestLogEntry) => WRITE_METHODS.has(e.method))
    .map((e) => `${e.method} ${e.path}`);
  const unexpected = writes.filter((w) => !allowedWrites.includes(w));
  expect(unexpected, `${what}: wrote without confirmation`).toEqual([]);
  const errors = s.h.logs.slice(m.lines).filter((l) => l.startsWith('[error]'));
  expect(errors, `${what}: the server logged an internal error`).toEqual([]);
  // The 2026-07-28 era has no ping; any cheap request shows the server still answers.
  if (s.era === 'legacy') await s.h.mcp.ping();
  else await s.h.mcp.listPrompts();
}

function checkAnswer(tool: AnyTool, result: ToolResult, what: string): void {
  expect(Array.isArray(result.content), `${what}: no content`).toBe(true);
  const text = textOf(result);
  expect(text, `${what}: internal error`).not.toMatch(INTERNAL);
  if (result.isError) {
    expect(actionable(text, argNames(tool)), `${what}: error names no argument or tool: ${text}`).toBe(true);
  }
}

function describeCall(name: string, args: unknown): string {
  const shown = JSON.stringify(args, (_k, v) =>
    typeof v === 'string' && v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v,
  );
  return `${name} ${shown.length > 600 ? `${shown.slice(0, 600)}…` : shown}`;
}

async function callChecked(s: Scene, tool: AnyTool, args: Record<string, unknown>): Promise<ToolResult> {
  const what = describeCall(tool.name, args);
  const m = mark(s);
  let result: ToolResult;
  try {
    result = await s.h.call(tool.name, args);
  } catch (error) {
    throw new Error(`${what}: protocol-level failure: ${(error as Error).message}`);
  }
  checkAnswer(tool, result, what);
  await checkAfter(s, m, UNCONFIRMED_WRITES[tool.name] ?? [], what);
  return result;
}

// ---------------------------------------------------------------------------------------------------------

// One server for the read-side properties and the regressions: no dialog, confirmation by token, so a write
// can only happen with a token this server issued.
let s: Scene;
beforeAll(async () => {
  s = await scene({ era: 'legacy', config: { confirmMode: 'token' } });
});
afterAll(() => s?.close());

describe(`tool arguments (fast-check seed ${SEED})`, () => {
  it(
    'every tool answers any arguments with a result or an actionable error, calls only the sandbox, never writes',
    async () => {
      const call = fc
        .constantFrom(...TOOL_NAMES)
        .chain((name) => argsFor(toolNamed(name), s.known).map((args) => ({ name, args })));
      await fc.assert(
        fc.asyncProperty(call, async ({ name, args }) => {
          await callChecked(s, toolNamed(name), args);
        }),
        params(150),
      );
    },
    TIMEOUT,
  );
});

type DialogAnswer =
  | { action: 'accept'; content: Record<string, string | number | boolean | string[]> }
  | { action: 'decline' | 'cancel' };

/** Every answer a person (or a client) can give that is not a plain "yes". */
const notYes: fc.Arbitrary<DialogAnswer> = fc.oneof(
  fc.constantFrom<DialogAnswer>(
    { action: 'decline' },
    { action: 'cancel' },
    { action: 'accept', content: { confirm: false } },
    { action: 'accept', content: {} },
    { action: 'accept', content: { confirm: 'true' } },
    { action: 'accept', content: { confirm: 1 } },
    { action: 'accept', content: { confirm: ['true'] } },
    { action: 'accept', content: { yes: true } },
  ),
  fc
    .dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()),
      {
        maxKeys: 3,
      },
    )
    .filter((c) => c['confirm'] !== true)
    .map((content): DialogAnswer => ({ action: 'accept', content })),
);

const CONFIRMED_TOOLS = allTools.filter((t) => t.confirm).map((t) => t.name);

describe(`write tools without a yes (fast-check seed ${SEED})`, () => {
  let answer: DialogAnswer = { action: 'decline' };
  let asked: Scene;
  let cannotAsk: Scene;
  beforeAll(async () => {
    // A client that shows the dialog, and a person who never says yes (2026-07-28: input_required round trip).
    asked = await scene({ era: 'modern', config: { confirmMode: 'auto' }, elicit: () => answer });
    // A client without dialogs, on a server that requires one.
    cannotAsk = await scene({ era: 'legacy', config: { confirmMode: 'elicit' } });
  });
  afterAll(async () => {
    await asked?.close();
    await cannotAsk?.close();
  });

  it(
    'no write request reaches the API, and the answer says nothing was changed or what to do',
    async () => {
      const call = fc
        .tuple(fc.constantFrom(...CONFIRMED_TOOLS), fc.boolean(), notYes)
        .chain(([name, dialog, reply]) =>
          argsFor(toolNamed(name), (dialog ? asked : cannotAsk).known).map((args) => ({
            name,
            dialog,
            reply,
            args,
          })),
        );
      await fc.assert(
        fc.asyncProperty(call, async ({ name, dialog, reply, args }) => {
          answer = reply;
          const s = dialog ? asked : cannotAsk;
          // callChecked allows no write request at all for these tools.
          await callChecked(s, toolNamed(name), args);
        }),
        params(50),
      );
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------------------
// Resources and completion.

function templateVars(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
}

/** A value for a URI template variable: meaningful, hostile, encoded or not. */
function uriVar(name: string, k: Known): fc.Arbitrary<string> {
  const plain = fc.oneof(
    { arbitrary: meaningful({ type: 'string' }, name, k) as fc.Arbitrary<string>, weight: 3 },
    { arbitrary: (semantic(name, k) ?? hostileString) as fc.Arbitrary<string>, weight: 2 },
    { arbitrary: hostileString, weight: 2 },
  );
  return fc.oneof(
    { arbitrary: plain.map(encode), weight: 3 },
    { arbitrary: plain, weight: 2 },
    { arbitrary: plain.map((v) => encode(encode(v))), weight: 1 },
  );
}

function uris(templates: string[], k: Known): fc.Arbitrary<string> {
  const filled = fc.constantFrom(...templates).chain((t) => {
    const vars = templateVars(t);
    return fc
      .tuple(...vars.map((v) => uriVar(v, k)))
      .map((values) => vars.reduce((uri, v, i) => uri.replace(`{${v}}`, values[i] ?? ''), t));
  });
  const other = fc.oneof(
    fc.constantFrom(
      'divio://applications',
      'divio://applications/',
      'divio://applications/shop/',
      'divio://applications/shop/environments',
      'divio://applications/shop/environments/test/logs/extra',
      'divio://applications/shop?x=1',
      'divio://applications/shop#frag',
      'divio://applications//environments/test',
      'divio://deployments//log',
      'divio://backups/',
      'divio:applications/shop',
      'DIVIO://APPLICATIONS/SHOP',
      'divio://evil.example/applications/shop',
      'https://evil.example/x',
      'file:///etc/passwd',
      'divio://applications/%2e%2e/environments/%2e%2e',
      'divio://applications/..%2F..%2F/environments/test',
    ),
    fc.webUrl(),
    hostileString.map((x) => `divio://applications/${x}`),
    hostileString,
  );
  return fc.oneof({ arbitrary: filled, weight: 4 }, { arbitrary: other, weight: 1 });
}

describe(`resources and completion (fast-check seed ${SEED})`, () => {
  let templates: string[];
  let prompts: { name: string; args: string[] }[];
  beforeAll(async () => {
    templates = (await s.h.mcp.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    prompts = (await s.h.mcp.listPrompts()).prompts.map((p) => ({
      name: p.name,
      args: (p.arguments ?? []).map((a) => a.name),
    }));
  });

  it('lists the templates the properties cover', () => {
    expect(templates.length).toBeGreaterThanOrEqual(5);
    for (const t of templates) expect(templateVars(t).length).toBeGreaterThan(0);
  });

  it(
    'resources/read answers every URI with contents or an error that says what is valid',
    async () => {
      await fc.assert(
        fc.asyncProperty(uris(templates, s.known), async (uri) => {
          const what = `resources/read ${JSON.stringify(uri.length > 200 ? `${uri.slice(0, 200)}…` : uri)}`;
          const m = mark(s);
          const outcome = await s.h.mcp.readResource({ uri }).then(
            (r) => ({ ok: true as const, r }),
            (e: unknown) => ({ ok: false as const, e: e as { code?: unknown; message?: unknown } }),
          );
          if (outcome.ok) {
            expect(outcome.r.contents.length, `${what}: no contents`).toBeGreaterThan(0);
            for (const c of outcome.r.contents) expect(typeof c.uri, what).toBe('string');
          } else {
            const { code, message } = outcome.e;
            expect(typeof code, `${what}: not a protocol error: ${String(message)}`).toBe('number');
            const text = String(message);
            expect(text, `${what}: internal error`).not.toMatch(INTERNAL);
            expect(actionable(text, []), `${what}: error names no tool, URI or valid values: ${text}`).toBe(
              true,
            );
          }
          await checkAfter(s, m, [], what);
        }),
        params(100),
      );
    },
    TIMEOUT,
  );

  it(
    'completion answers any partial value and context with at most 100 suggestions',
    async () => {
      const refs = fc.oneof(
        fc.constantFrom(...templates).chain((uri) =>
          fc.constantFrom(...templateVars(uri)).map((arg) => ({
            ref: { type: 'ref/resource' as const, uri },
            arg,
            names: templateVars(uri),
          })),
        ),
        fc
          .constantFrom(...prompts.filter((p) => p.args.length > 0))
          .chain((p) =>
            fc
              .constantFrom(...p.args)
              .map((arg) => ({ ref: { type: 'ref/prompt' as const, name: p.name }, arg, names: p.args })),
          ),
      );
      const request = refs.chain(({ ref, arg, names }) =>
        fc.record({
          ref: fc.constant(ref),
          argument: fc.record({
            name: fc.constant(arg),
            value: fc.oneof(fc.constantFrom('', 's', 'sh', 't', 'l'), uriVar(arg, s.known), hostileString),
          }),
          context: fc.option(
            fc.record({
              arguments: fc
                .tuple(
                  ...names.map((n) =>
                    fc.option(uriVar(n, s.known).map(decodeURIComponentSafe), { nil: undefined }),
                  ),
                )
                .map((vals) =>
                  Object.fromEntries(
                    names.flatMap((n, i) => (vals[i] === undefined ? [] : [[n, vals[i] as string]])),
                  ),
                ),
            }),
            { nil: undefined },
          ),
        }),
      );
      await fc.assert(
        fc.asyncProperty(request, async (req) => {
          const what = `completion/complete ${JSON.stringify(req).slice(0, 400)}`;
          const m = mark(s);
          const { context, ...rest } = req;
          const result = await s.h.mcp.complete(context ? { ...rest, context } : rest);
          const values = result.completion.values;
          expect(values.length, what).toBeLessThanOrEqual(100);
          for (const v of values) expect(typeof v, what).toBe('string');
          await checkAfter(s, m, [], what);
        }),
        params(60),
      );
    },
    TIMEOUT,
  );
});

/** encodeURIComponent, with lone surrogates (which it refuses) replaced the way a client would send them. */
function encode(value: string): string {
  return encodeURIComponent(
    value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Counterexamples the properties found, kept as regular tests.

describe('regressions found by the properties', () => {
  it('a cursor wrapping an unparsable URL is refused, not followed, naming cursor', async () => {
    const before = s.sent.length;
    const cursor = b64('http://=27.0.0.1:1/apps/v3/applications/?page=2');
    const result = await callChecked(s, toolNamed('list_applications'), { cursor });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/\bcursor\b/);
    expect(s.sent.slice(before).filter((r) => r.path.includes('page=2'))).toEqual([]);
  });
});

describe('time regressions found by the properties', () => {
  it.each([
    ['get_environment_logs', 'until', '+010000-01-01T00:00:00.000Z'],
    ['get_environment_logs', 'since', '99999999999999d'],
    ['diagnose_environment', 'since', '-000001-01-01T00:00:00Z'],
  ])(
    '%s refuses %s %s as out of range, naming the argument, before calling the API',
    async (name, field, value) => {
      const before = s.h.sandbox.requestLog.length;
      const result = await callChecked(s, toolNamed(name), {
        app: 'shop',
        environment: 'test',
        [field]: value,
      });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(new RegExp(`^${field}: .* out of range`));
      expect(s.h.sandbox.requestLog.slice(before).filter((e) => e.path.includes('/logs/'))).toEqual([]);
    },
  );
});

describe('resource regressions found by the properties', () => {
  it.each([
    ['divio://applications/{}', 'list_applications'],
    ['divio://applications/shop/environments/{}', 'get_application'],
    ['divio://applications/{}/environments/test/logs', 'list_applications'],
    ['divio://deployments/{}/log', 'list_deployments'],
    ['divio://backups/{}', 'list_backups'],
  ])(
    '%s with a 100 000-character value is refused before any API call, naming %s',
    async (template, tool) => {
      const before = s.sent.length;
      const uri = template.replace('{}', 'a'.repeat(100_000));
      const error = (await s.h.mcp.readResource({ uri }).then(
        () => null,
        (e: unknown) => e,
      )) as { code: number; message: string } | null;
      expect(error?.code).toBe(-32602);
      expect(error?.message).toContain(tool);
      expect(s.sent.slice(before)).toEqual([]);
    },
  );
});

describe('sandbox regressions found by the properties', () => {
  it('a request path starting with // is logged and answered 404, not 500', async () => {
    const sandbox = await startSandbox();
    try {
      const res = await fetch(`${sandbox.url}//%1C%1C%EF%BF%BD/x/`, {
        headers: { authorization: `Token ${sandbox.token}` },
      });
      expect(res.status).toBe(404);
      expect(sandbox.requestLog.map((e) => [e.method, e.path, e.status])).toEqual([
        ['GET', '//%1C%1C%EF%BF%BD/x/', 404],
      ]);
    } finally {
      await sandbox.close();
    }
  });
});
