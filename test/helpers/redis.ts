import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/*
 * A real redis-server on a loopback port, started by the test file that needs it and killed after it. It keeps
 * nothing on disk (--save '' --appendonly no). `.ci/run` installs redis-server when it is missing; in CI
 * (CI=true) a missing binary fails the suite loudly instead of skipping it.
 */

export const HAVE_REDIS = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

if (!HAVE_REDIS && process.env['CI'] === 'true') {
  throw new Error(
    'redis-server is not installed, and CI must run the Redis tests: install it (apt-get install -y redis-server; .ci/run does).',
  );
}

export interface RedisServer {
  port: number;
  url: string;
  stop: () => Promise<void>;
}

/** A port that was free a moment ago (redis-server needs a concrete one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** Starts redis-server on `port` (a free one when omitted) and waits until it answers PING. */
export async function startRedis(port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  let ready = false;
  for (let waited = 0; waited < 10_000 && !ready; waited += 25) {
    if (exited) throw new Error(`redis-server exited at start (port ${chosen})`);
    ready = await answersPing(chosen);
    if (!ready) await new Promise((r) => setTimeout(r, 25));
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${chosen} within 10 s`);
  }
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
