import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERAS, type Harness, startHarness } from './helpers/harness.js';

const PROMPTS: Record<string, { args: Record<string, string>; tools: string[]; mentions: RegExp[] }> = {
  diagnose: {
    args: { app: 'shop', environment: 'live' },
    tools: ['diagnose_environment', 'get_environment_logs', 'get_deployment_log'],
    mentions: [/shop\/live/, /untrusted/],
  },
  safe_deploy: {
    args: { app: 'shop', environment: 'test' },
    tools: [
      'create_backup',
      'deploy_environment',
      'get_environment',
      'get_environment_logs',
      'restore_backup',
    ],
    mentions: [/shop\/test/, /confirm/],
  },
  restore_environment: {
    args: { app: 'blog', environment: 'live', before: '2026-11-20T10:00:00Z' },
    tools: ['list_backups', 'get_backup', 'restore_backup', 'get_environment'],
    mentions: [/blog\/live/, /before 2026-11-20T10:00:00Z/, /overwritten/],
  },
  incident_report: {
    args: { app: 'api-gateway', environment: 'staging', since: '24h' },
    tools: ['list_deployments', 'get_environment_logs', 'get_deployment_log', 'get_environment'],
    mentions: [/api-gateway\/staging/, /since="24h"/],
  },
};

async function promptText(h: Harness, name: string, args: Record<string, string>): Promise<string> {
  const result = await h.mcp.getPrompt({ name, arguments: args });
  expect(result.messages).toHaveLength(1);
  const [message] = result.messages;
  expect(message?.role).toBe('user');
  const content = message?.content as { type: string; text: string };
  expect(content.type).toBe('text');
  return content.text;
}

async function completePrompt(
  h: Harness,
  name: string,
  argument: string,
  value: string,
  context?: Record<string, string>,
): Promise<string[]> {
  const result = await h.mcp.complete({
    ref: { type: 'ref/prompt', name },
    argument: { name: argument, value },
    ...(context ? { context: { arguments: context } } : {}),
  });
  return result.completion.values;
}

describe.each(ERAS)('prompts (%s era)', (era) => {
  let h: Harness;
  let toolNames: Set<string>;
  beforeAll(async () => {
    h = await startHarness({ era });
    toolNames = new Set((await h.mcp.listTools()).tools.map((t) => t.name));
  });
  afterAll(async () => {
    await h.close();
  });

  it('lists the four prompts with their arguments', async () => {
    const { prompts } = await h.mcp.listPrompts();
    const byName = Object.fromEntries(prompts.map((p) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(Object.keys(PROMPTS).sort());
    const args = (name: string) =>
      Object.fromEntries((byName[name]?.arguments ?? []).map((a) => [a.name, a.required === true]));
    expect(args('diagnose')).toEqual({ app: true, environment: true });
    expect(args('safe_deploy')).toEqual({ app: true, environment: true });
    expect(args('restore_environment')).toEqual({ app: true, environment: true, before: false });
    expect(args('incident_report')).toEqual({ app: true, environment: true, since: true });
    for (const p of prompts) {
      expect(p.title).toBeTruthy();
      expect(p.description?.length).toBeGreaterThan(20);
    }
  });

  it.each(Object.entries(PROMPTS))('gets %s, naming the tools of its workflow', async (name, spec) => {
    const text = await promptText(h, name, spec.args);
    for (const tool of spec.tools) {
      expect(text, `${name} names ${tool}`).toContain(tool);
      expect(toolNames.has(tool), `${tool} is a registered tool`).toBe(true);
    }
    for (const m of spec.mentions) expect(text).toMatch(m);
    // Concise: a workflow, not an essay.
    expect(text.length).toBeLessThan(1200);
  });

  it('omits the time bound of restore_environment when before is not given', async () => {
    const text = await promptText(h, 'restore_environment', { app: 'blog', environment: 'live' });
    expect(text).not.toMatch(/before undefined|taken before/);
  });

  it('refuses unknown prompts and missing required arguments', async () => {
    await expect(h.mcp.getPrompt({ name: 'nope', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    await expect(h.mcp.getPrompt({ name: 'diagnose', arguments: { app: 'shop' } })).rejects.toMatchObject({
      code: -32602,
    });
  });

  it('completes prompt arguments like resource variables', async () => {
    expect(await completePrompt(h, 'diagnose', 'app', 'bl')).toEqual(['blog']);
    expect(await completePrompt(h, 'safe_deploy', 'app', 'i')).toEqual(['intranet']);
    expect((await completePrompt(h, 'diagnose', 'environment', '', { app: 'api-gateway' })).sort()).toEqual([
      'live',
      'staging',
      'test',
    ]);
    expect(await completePrompt(h, 'incident_report', 'environment', 'l', { app: 'shop' })).toEqual(['live']);
    expect(await completePrompt(h, 'restore_environment', 'environment', '')).toEqual([]);
    expect(await completePrompt(h, 'incident_report', 'since', '1')).toEqual(['15m', '1h']);
    expect(await completePrompt(h, 'restore_environment', 'before', '2')).toEqual(['24h']);
  });
});

describe('prompts follow --read-only and --toolsets', () => {
  it('hides the write workflows in read-only mode', async () => {
    const h = await startHarness({ era: 'legacy', config: { readOnly: true } });
    try {
      const { prompts } = await h.mcp.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual(['diagnose', 'incident_report']);
      await expect(
        h.mcp.getPrompt({ name: 'safe_deploy', arguments: { app: 'shop', environment: 'live' } }),
      ).rejects.toMatchObject({ code: -32602 });
    } finally {
      await h.close();
    }
  });

  it('hides prompts whose tools are switched off', async () => {
    const h = await startHarness({
      era: 'modern',
      config: { toolsets: new Set(['apps', 'logs', 'deploy'] as const) },
    });
    try {
      const { prompts } = await h.mcp.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual(['diagnose', 'incident_report']);
    } finally {
      await h.close();
    }
  });
});
