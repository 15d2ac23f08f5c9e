// The log inside the process: API health lines and MCP logging (the built server's log: test/e2e/logs.test.ts).
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { DivioClient } from '../src/client/index.js';
import { watchApiHealth } from '../src/mcp/health.js';
import { createLogger } from '../src/mcp/log.js';
import { type Era, jsonLines, startHarness, textOf } from './helpers/harness.js';

describe('API health: once per process, re-armed by a success', () => {
  it('401, 401, 200, 401 says it twice; an unreachable API is said once with the fix', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get('https://api.divio.com');
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (l) => void lines.push(l) } });
    const client = new DivioClient({ token: 't', dispatcher: agent, retry: { maxRetries: 0 } });
    watchApiHealth(client, log);
    const reply = (status: number) =>
      pool
        .intercept({ path: '/apps/v3/applications/', method: 'GET' })
        .reply(status, { results: [], next: null });
    for (const status of [401, 401, 200, 401]) {
      reply(status);
      await client.request('GET', '/apps/v3/applications/').catch(() => undefined);
    }
    const refused = jsonLines(lines.join('')).filter((l) => l['event'] === 'token_refused');
    expect(refused).toHaveLength(2);
    expect(String(refused[0]?.['msg'])).toContain('https://control.divio.com/account/access-tokens/');

    for (let i = 0; i < 2; i++) {
      pool
        .intercept({ path: '/apps/v3/applications/', method: 'GET' })
        .replyWithError(new Error('ECONNREFUSED'));
      await client.request('GET', '/apps/v3/applications/').catch(() => undefined);
    }
    const unreachable = jsonLines(lines.join('')).filter((l) => l['event'] === 'api_unreachable');
    expect(unreachable).toHaveLength(1);
    expect(String(unreachable[0]?.['msg'])).toMatch(/DIVIO_API_URL/);
    await agent.close();
  });
});

describe('MCP logging capability', () => {
  const connectWithNotes = async (era: Era) => {
    const h = await startHarness({ era, clientToken: 'wrong-token-for-notifications' });
    const notes: { level: string; data: unknown }[] = [];
    h.mcp.setNotificationHandler('notifications/message', (n) => {
      notes.push(n.params as { level: string; data: unknown });
    });
    return { h, notes };
  };

  it('declares logging, honours logging/setLevel, and sends warnings and errors as notifications/message', async () => {
    const { h, notes } = await connectWithNotes('legacy');
    try {
      expect(h.mcp.getServerCapabilities()?.logging).toEqual({});
      await h.mcp.setLoggingLevel('warning');
      const r = await h.call('list_applications');
      expect(r.isError).toBe(true);
      expect(notes).toHaveLength(1);
      expect(notes[0]?.level).toBe('error');
      expect(JSON.stringify(notes[0]?.data)).toContain('access-tokens');
      expect(JSON.stringify(notes)).not.toContain('wrong-token-for-notifications');
    } finally {
      await h.close();
    }
  });

  it('a client that set the level to critical gets no error notifications', async () => {
    const { h, notes } = await connectWithNotes('legacy');
    try {
      await h.mcp.setLoggingLevel('critical');
      expect((await h.call('list_applications')).isError).toBe(true);
      expect(notes).toEqual([]);
      // The log itself still has it.
      expect(h.logs.filter((l) => l.includes('token_refused'))).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it('2026-07-28 clients are served as before (no notification unless they ask in the request)', async () => {
    const { h, notes } = await connectWithNotes('modern');
    try {
      const r = await h.call('list_applications');
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/rejected the API token/);
      expect(notes).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
