import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_DRAIN_SECONDS } from '../src/cli/limits.js';
import { FLAGS, OPTIONS } from '../src/cli/options.js';

// No container engine or cluster runs here: these tests read the Dockerfile and the Kubernetes manifests and
// check what they promise against the server's own options table.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const K8S = `${ROOT}deploy/kubernetes/`;
const SERVER_ENV = new Set(OPTIONS.flatMap((o) => o.env ?? []));

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function docs(file: string): Obj[] {
  const parsed = parseAllDocuments(readFileSync(`${K8S}${file}`, 'utf8'));
  for (const d of parsed) expect(d.errors, `${file}: YAML errors`).toEqual([]);
  return parsed.map((d) => obj(d.toJS()));
}

const all = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => docs(f).map((d) => ({ file: f, doc: d })));
const kind = (k: string): Obj => {
  const found = all.filter((x) => x.doc['kind'] === k);
  expect(found, `exactly one ${k}`).toHaveLength(1);
  return found[0]?.doc ?? {};
};

const deployment = kind('Deployment');
const podSpec = obj(obj(obj(deployment['spec'])['template'])['spec']);
const containers = arr(podSpec['containers']).map(obj);
const container = containers[0] ?? {};
const env = arr(container['env']).map(obj);
const envValue = (name: string) => env.find((e) => e['name'] === name);

/** The flags of a command line (`--name value` or `--name=value`), with their values. */
function flagsOf(args: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!a.startsWith('--')) continue;
    const [name, inline] = a.split('=', 2) as [string, string | undefined];
    const row = OPTIONS.find((o) => `--${o.flag}` === name);
    if (inline !== undefined) out.set(name, inline);
    else if (row?.arg) out.set(name, args[++i] ?? '');
    else out.set(name, true);
  }
  return out;
}

describe('Kubernetes manifests', () => {
  it('every environment variable they set is one the server reads', () => {
    expect(env.length).toBeGreaterThan(0);
    for (const c of containers)
      for (const e of arr(c['env']).map(obj)) expect(SERVER_ENV, String(e['name'])).toContain(e['name']);
    for (const c of containers) expect(arr(c['envFrom']), 'envFrom could set anything').toEqual([]);
  });

  it('every flag they pass is one the server has', () => {
    for (const c of containers) {
      const args = [...arr(c['command']), ...arr(c['args'])].map(String);
      for (const flag of flagsOf(args).keys()) expect(FLAGS).toContain(flag);
    }
  });

  it('a Deployment with 2 replicas whose selector matches its pods, the Service and the PodDisruptionBudget', () => {
    const spec = obj(deployment['spec']);
    expect(spec['replicas']).toBe(2);
    const labels = obj(obj(obj(spec['template'])['metadata'])['labels']);
    const matches = (selector: Obj) =>
      Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(matches(obj(obj(spec['selector'])['matchLabels']))).toBe(true);
    const service = kind('Service');
    expect(matches(obj(obj(service['spec'])['selector']))).toBe(true);
    const pdb = kind('PodDisruptionBudget');
    expect(pdb['apiVersion']).toBe('policy/v1');
    expect(matches(obj(obj(obj(pdb['spec'])['selector'])['matchLabels']))).toBe(true);
    const minAvailable = obj(pdb['spec'])['minAvailable'];
    expect(typeof minAvailable === 'number' && minAvailable >= 1 && minAvailable < 2).toBe(true);
    // The Service reaches the container port by name.
    const ports = arr(container['ports']).map(obj);
    for (const p of arr(obj(service['spec'])['ports']).map(obj))
      expect(
        ports.some((cp) => cp['name'] === p['targetPort'] || cp['containerPort'] === p['targetPort']),
      ).toBe(true);
  });

  it('readiness on /readyz and liveness on /healthz, on the container port', () => {
    const ports = arr(container['ports']).map(obj);
    const onPort = (probe: Obj) => {
      const get = obj(probe['httpGet']);
      return ports.some((p) => p['name'] === get['port'] || p['containerPort'] === get['port']);
    };
    const readiness = obj(container['readinessProbe']);
    const liveness = obj(container['livenessProbe']);
    expect(obj(readiness['httpGet'])['path']).toBe('/readyz');
    expect(obj(liveness['httpGet'])['path']).toBe('/healthz');
    expect(onPort(readiness) && onPort(liveness)).toBe(true);
    // The readiness check may ask Divio (5 s timeout): the probe must wait longer than that.
    expect(Number(readiness['timeoutSeconds'])).toBeGreaterThan(5);
  });

  it('the Divio token, auth token and confirmation/cursor keys come from the Secret the example defines', () => {
    const secret = kind('Secret');
    const secretName = obj(secret['metadata'])['name'];
    const keys = Object.keys(obj(secret['stringData']));
    const secretVars = [
      'DIVIO_API_TOKEN',
      'DIVIO_MCP_AUTH_TOKEN',
      'DIVIO_MCP_CONFIRM_KEY',
      'DIVIO_MCP_CURSOR_KEY',
    ];
    // Shared state: the Redis URL too, once the server reads it.
    if (SERVER_ENV.has('DIVIO_MCP_REDIS_URL')) secretVars.push('DIVIO_MCP_REDIS_URL');
    for (const name of secretVars) {
      const e = envValue(name);
      expect(e, name).toBeDefined();
      expect(e?.['value'], `${name} must not be written in the manifest`).toBeUndefined();
      const ref = obj(obj(e?.['valueFrom'])['secretKeyRef']);
      expect(ref['name']).toBe(secretName);
      expect(keys).toContain(ref['key']);
    }
  });

  it('the Secret is an example with placeholders only, and is not applied by the kustomization', () => {
    const file = all.find((x) => x.doc['kind'] === 'Secret')?.file;
    expect(file).toBe('secret.example.yaml');
    for (const [key, value] of Object.entries(obj(kind('Secret')['stringData'])))
      expect(String(value), key).toMatch(/^REPLACE_WITH_[A-Za-z0-9_]+$/);
    const resources = arr(kind('Kustomization')['resources']).map(String);
    expect(resources).not.toContain('secret.example.yaml');
    for (const r of resources) expect(existsSync(`${K8S}${r}`), r).toBe(true);
  });

  it('the grace period outlasts the preStop pause plus the drain deadline', () => {
    const args = flagsOf([...arr(container['command']), ...arr(container['args'])].map(String));
    const drain = Number(
      args.get('--drain-seconds') ?? envValue('DIVIO_MCP_DRAIN_SECONDS')?.['value'] ?? DEFAULT_DRAIN_SECONDS,
    );
    const preStop = arr(obj(obj(obj(container['lifecycle'])['preStop'])['exec'])['command']).join(' ');
    const pause = Number(/setTimeout\([^,]+,\s*(\d+)\)/.exec(preStop)?.[1] ?? 0) / 1000;
    expect(drain).toBeGreaterThan(0);
    expect(Number(podSpec['terminationGracePeriodSeconds'])).toBeGreaterThan(pause + drain);
  });

  it('runs as non-root with a read-only root filesystem and no privilege escalation, with requests and limits', () => {
    expect(obj(podSpec['securityContext'])['runAsNonRoot']).toBe(true);
    for (const c of containers) {
      const sc = obj(c['securityContext']);
      expect(sc['readOnlyRootFilesystem']).toBe(true);
      expect(sc['allowPrivilegeEscalation']).toBe(false);
      expect(arr(obj(sc['capabilities'])['drop'])).toContain('ALL');
      const resources = obj(c['resources']);
      for (const part of ['requests', 'limits'])
        for (const what of ['cpu', 'memory'])
          expect(obj(resources[part])[what], `${part}.${what}`).toBeDefined();
    }
  });
});

interface Stage {
  from: string;
  name: string | undefined;
  lines: { instruction: string; rest: string }[];
}

/** The Dockerfile's stages and instructions (continuation lines joined, comments dropped). */
function dockerfile(): { args: Map<string, string>; stages: Stage[] } {
  const text = readFileSync(`${ROOT}Dockerfile`, 'utf8').replace(/\\\n/g, ' ');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const instruction = m[1].toUpperCase();
    const rest = m[2];
    if (instruction === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      stages.push({ from: f?.[1] ?? rest, name: f?.[2], lines: [] });
    } else if (instruction === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=', 2);
      if (k && v !== undefined) args.set(k, v);
    } else stages.at(-1)?.lines.push({ instruction, rest });
  }
  return { args, stages };
}

describe('Dockerfile', () => {
  const { args, stages } = dockerfile();
  const final = stages.at(-1) as Stage;
  const all = (s: Stage, i: string) => s.lines.filter((l) => l.instruction === i).map((l) => l.rest);
  const execForm = (s: string) => JSON.parse(s) as string[];

  it('is multi-stage: a build stage with dev dependencies, a runtime stage without them', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => all(s, 'RUN').some((r) => r.includes('npm run build')));
    expect(build).toBeDefined();
    expect(build && all(build, 'RUN').some((r) => /npm ci(?!.*--omit=dev)/.test(r))).toBe(true);
    expect(build).not.toBe(final);
    // The runtime gets dist/ from the build stage and node_modules from a production-only install.
    const copies = all(final, 'COPY');
    expect(copies.some((c) => c.includes(`--from=${build?.name}`) && c.includes('dist'))).toBe(true);
    const depsFrom = /--from=(\S+)\s+\S*node_modules/.exec(copies.join('\n'))?.[1];
    const deps = stages.find((s) => s.name === depsFrom) ?? final;
    expect(all(deps, 'RUN').some((r) => /npm ci .*--omit=dev/.test(r))).toBe(true);
  });

  it('uses node images pinned by a major version of 20 or newer', () => {
    for (const s of stages) {
      const image = s.from.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      const m = /^node:(\d+)(?:[.-]|$)/.exec(image);
      expect(m, image).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThanOrEqual(20);
    }
  });

  it('runs as a non-root user', () => {
    const users = all(final, 'USER');
    expect(users.length).toBe(1);
    const user = (users[0] ?? '').split(':')[0];
    expect(['', 'root', '0']).not.toContain(user);
    // Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    expect(user).toMatch(/^[1-9]\d*$/);
  });

  it('serves HTTP by default on the exposed port, with flags the server has', () => {
    const entrypoint = execForm(all(final, 'ENTRYPOINT')[0] ?? '[]');
    const cmd = execForm(all(final, 'CMD')[0] ?? '[]');
    expect(entrypoint).toEqual(['node', 'dist/index.js']);
    const flags = flagsOf([...entrypoint, ...cmd]);
    for (const flag of flags.keys()) expect(FLAGS).toContain(flag);
    expect(flags.get('--transport')).toBe('http');
    expect(flags.get('--host')).toBe('0.0.0.0');
    expect(all(final, 'EXPOSE')).toEqual([flags.get('--port')]);
  });

  it('checks /healthz on that port without curl or wget', () => {
    const check = all(final, 'HEALTHCHECK')[0] ?? '';
    const cmd = /CMD\s+(\[.*\])\s*$/.exec(check)?.[1];
    expect(cmd).toBeDefined();
    const argv = execForm(cmd ?? '[]');
    expect(argv[0]).toBe('node');
    const port = flagsOf(execForm(all(final, 'CMD')[0] ?? '[]')).get('--port');
    expect(argv.join(' ')).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(check).not.toMatch(/\b(curl|wget)\b/);
  });

  it('has a .dockerignore that keeps local builds, dependencies and secrets out of the context', () => {
    const ignore = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', '.git', '.env', '.env.*']) expect(ignore).toContain(entry);
  });
});
