import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli/args.js';
import { CursorError, openCursor, signCursor } from '../src/mcp/cursor.js';
import { silentLogger } from '../src/mcp/log.js';
import { createServerFactory } from '../src/server.js';
import { CURSOR_MAX_LENGTH } from '../src/tools/schemas.js';
import { type Harness, startHarness, type ToolResult, textOf } from './helpers/harness.js';
import { sharedValidator } from './helpers/validator.js';

// Finding 5 of issue 9: a cursor must only continue the list it came from.

type Sc = Record<string, unknown>;
const sc = (r: ToolResult): Sc => {
  expect(r.isError, textOf(r)).toBeFalsy();
  return r.structuredContent as Sc;
};
const refused = (r: ToolResult, ...patterns: RegExp[]): string => {
  expect(r.isError, `expected a refusal, got: ${textOf(r)}`).toBe(true);
  const text = textOf(r);
  expect(text).toMatch(/without cursor/);
  for (const p of patterns) expect(text).toMatch(p);
  return text;
};

/** Rewrites the API link inside a cursor, whatever the cursor's layout, keeping everything else. */
function editLink(cursor: string, edit: (link: string) => string): string {
  return cursor
    .split('.')
    .map((part) => {
      const decoded = Buffer.from(part, 'base64url').toString('utf8');
      return /^https?:\/\//.test(decoded) ? Buffer.from(edit(decoded), 'utf8').toString('base64url') : part;
    })
    .join('.');
}

/** Every paginated tool, with arguments for shop/live that give more than one page at limit 1. */
const LISTS: [string, Record<string, unknown>][] = [
  ['list_organisations', {}],
  ['list_applications', {}],
  ['list_deployments', { app: 'shop' }],
  ['list_backups', { app: 'shop', environment: 'live' }],
  ['list_environment_variables', { app: 'shop', environment: 'live' }],
  ['list_domains', { app: 'shop' }],
  ['list_cronjobs', { app: 'shop', environment: 'live' }],
  ['list_service_instances', { app: 'shop', environment: 'live' }],
  ['get_environment_logs', { app: 'shop', environment: 'live' }],
];

describe('cursors are bound to their tool, target and filters', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const firstCursor = async (tool: string, args: Record<string, unknown>): Promise<string> => {
    const cursor = sc(await h.call(tool, { ...args, limit: 1 }))['next_cursor'];
    expect(cursor, `${tool} has a second page`).toEqual(expect.any(String));
    return cursor as string;
  };
  const requestsSince = (n: number, fragment: string) =>
    h.sandbox.requestLog.slice(n).filter((e) => e.method === 'GET' && e.path.includes(fragment));

  it('a variables cursor of shop/live is refused for blog/test, before any page is fetched', async () => {
    const cursor = await firstCursor('list_environment_variables', { app: 'shop', environment: 'live' });
    const before = h.sandbox.requestLog.length;
    const r = await h.call('list_environment_variables', {
      app: 'blog',
      environment: 'test',
      limit: 1,
      cursor,
    });
    refused(r, /another app, environment or filters/);
    expect(requestsSince(before, 'environment-variables')).toEqual([]);
    // Still good where it came from.
    sc(await h.call('list_environment_variables', { app: 'shop', environment: 'live', limit: 1, cursor }));
  });

  it('a logs cursor of shop/live is refused for blog/test', async () => {
    const cursor = await firstCursor('get_environment_logs', { app: 'shop', environment: 'live' });
    const before = h.sandbox.requestLog.length;
    const r = await h.call('get_environment_logs', { app: 'blog', environment: 'test', limit: 1, cursor });
    refused(r, /another app, environment or filters/);
    expect(requestsSince(before, '/logs/')).toEqual([]);
  });

  it('a variables cursor passed to list_domains is refused as another tool', async () => {
    const cursor = await firstCursor('list_environment_variables', { app: 'shop', environment: 'live' });
    const r = await h.call('list_domains', { app: 'shop', cursor });
    refused(r, /another tool/);
    expect(r.structuredContent).toBeUndefined();
  });

  it('a cursor whose link was edited is refused', async () => {
    const cursor = await firstCursor('list_environment_variables', { app: 'shop', environment: 'live' });
    const blogTest = h.sandbox.state.environmentBySlug('blog', 'test')?.uuid ?? '';
    const shopLive = h.sandbox.state.environmentBySlug('shop', 'live')?.uuid ?? '';
    const edited = editLink(cursor, (link) => link.replace(shopLive, blogTest));
    expect(edited).not.toBe(cursor);
    refused(
      await h.call('list_environment_variables', { app: 'shop', environment: 'live', cursor: edited }),
      /not valid/,
    );
    // A flipped character anywhere in the signature is refused as well.
    const flipped = `${cursor.slice(0, -1)}${cursor.endsWith('A') ? 'B' : 'A'}`;
    refused(
      await h.call('list_environment_variables', { app: 'shop', environment: 'live', cursor: flipped }),
      /not valid/,
    );
  });

  it('a cursor is refused when the filters change', async () => {
    const logs = { app: 'shop', environment: 'live', service: 'web' };
    const cursor = await firstCursor('get_environment_logs', logs);
    refused(
      await h.call('get_environment_logs', { ...logs, service: 'worker', cursor }),
      /another app, environment or filters/,
    );
    refused(
      await h.call('get_environment_logs', { app: 'shop', environment: 'live', cursor }),
      /another app, environment or filters/,
    );
    sc(await h.call('get_environment_logs', { ...logs, limit: 1, cursor }));

    const apps = await firstCursor('list_applications', { name: 'o' });
    refused(await h.call('list_applications', { name: 'b', cursor: apps }), /filters/);
    sc(await h.call('list_applications', { name: 'o', limit: 1, cursor: apps }));
  });

  it('the same target spelled as a slug or an ID continues the same list', async () => {
    const cursor = await firstCursor('list_cronjobs', { app: 'shop', environment: 'live' });
    const app = h.sandbox.state.applicationBySlug('shop')?.uuid;
    const env = h.sandbox.state.environmentBySlug('shop', 'live')?.uuid;
    sc(await h.call('list_cronjobs', { app, environment: env, limit: 1, cursor }));
  });

  it('no list tool accepts another list tool’s cursor; each continues its own', async () => {
    const cursors = new Map<string, string>();
    for (const [tool, args] of LISTS) cursors.set(tool, await firstCursor(tool, args));
    for (const [tool, args] of LISTS) {
      for (const [other, cursor] of cursors) {
        const r = await h.call(tool, { ...args, limit: 1, cursor });
        if (other === tool) {
          const out = sc(r);
          expect(out['has_more'], tool).toBe(out['next_cursor'] !== null);
        } else {
          refused(r, /another tool/);
        }
      }
    }
  });
});

describe('the cursor key', () => {
  const hexKey = 'cd'.repeat(32);

  it('is derived from DIVIO_MCP_CONFIRM_KEY, so replicas sharing it share cursors; DIVIO_MCP_CURSOR_KEY overrides', () => {
    const a = parseCli([], { DIVIO_MCP_CONFIRM_KEY: hexKey }).config;
    const b = parseCli([], { DIVIO_MCP_CONFIRM_KEY: hexKey }).config;
    expect(Buffer.from(a.cursorKey).equals(Buffer.from(b.cursorKey))).toBe(true);
    expect(Buffer.from(a.cursorKey).equals(Buffer.from(a.confirmKey))).toBe(false);
    const random1 = parseCli([], {}).config.cursorKey;
    const random2 = parseCli([], {}).config.cursorKey;
    expect(Buffer.from(random1).equals(Buffer.from(random2))).toBe(false);
    const own = parseCli([], { DIVIO_MCP_CONFIRM_KEY: hexKey, DIVIO_MCP_CURSOR_KEY: 'ef'.repeat(32) }).config;
    expect(Buffer.from(own.cursorKey).toString('hex')).toBe('ef'.repeat(32));
    expect(() => parseCli([], { DIVIO_MCP_CURSOR_KEY: 'abcd' })).toThrow(
      /DIVIO_MCP_CURSOR_KEY must be at least 32 bytes/,
    );
  });

  it('a replica with the same key continues a cursor; one with another key refuses it', async () => {
    const key = parseCli([], { DIVIO_MCP_CONFIRM_KEY: hexKey }).config.cursorKey;
    const h = await startHarness({ config: { cursorKey: key } });
    const replica = async (cursorKey: Uint8Array) => {
      const factory = createServerFactory({
        client: h.divio,
        config: { ...h.config, cursorKey },
        log: silentLogger,
      });
      const server = factory();
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const mcp = new Client(
        { name: 'replica', version: '1.0.0' },
        { jsonSchemaValidator: sharedValidator, versionNegotiation: { mode: 'legacy' } },
      );
      await mcp.connect(clientSide);
      return { mcp, close: async () => Promise.all([mcp.close(), server.close()]) };
    };
    try {
      const args = { app: 'shop', environment: 'live', limit: 1 };
      const cursor = sc(await h.call('list_backups', args))['next_cursor'] as string;
      const same = await replica(key);
      const other = await replica(new Uint8Array(32).fill(9));
      try {
        const ok = (await same.mcp.callTool({
          name: 'list_backups',
          arguments: { ...args, cursor },
        })) as unknown as ToolResult;
        expect((sc(ok)['backups'] as unknown[]).length).toBe(1);
        const no = (await other.mcp.callTool({
          name: 'list_backups',
          arguments: { ...args, cursor },
        })) as unknown as ToolResult;
        refused(no, /not valid/);
      } finally {
        await same.close();
        await other.close();
      }
    } finally {
      await h.close();
    }
  });
});

describe('cursor size', () => {
  const key = new Uint8Array(32).fill(3);

  it('a long API link still fits the cursor argument, and opens to the same link', () => {
    const link = `https://api.divio.com/apps/v3/environments/abcdefghijklmnopqrstuvwxyz/logs/?cursor=${'x'.repeat(1300)}`;
    const cursor = signCursor(key, 'get_environment_logs', { app: 'a', environment: 'e' }, link) ?? '';
    expect(cursor.length).toBeLessThanOrEqual(CURSOR_MAX_LENGTH);
    expect(openCursor(key, 'get_environment_logs', { app: 'a', environment: 'e' }, cursor)).toBe(link);
  });

  it('a link too long for a cursor is an actionable error, never a cursor the schema would refuse', () => {
    const link = `https://api.divio.com/x/?cursor=${'x'.repeat(1600)}`;
    expect(() => signCursor(key, 'get_environment_logs', {}, link)).toThrow(CursorError);
    expect(() => signCursor(key, 'get_environment_logs', {}, link)).toThrow(/Narrow the query/);
  });
});
