import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import type { Reporter, TestModule } from 'vitest/node';

/** The reference workload, run by a fresh Node.js process so the suite's own heap and JIT state do not skew it. */
const REFERENCE = `
const items = Array.from({ length: 2000 }, (_, i) => ({ id: i, name: 'item-' + i, tags: ['a', 'b', String(i % 7)] }));
let best = Infinity;
let kept = 0;
for (let run = 0; run < 3; run++) {
  const started = performance.now();
  for (let round = 0; round < 40; round++) {
    kept += JSON.parse(JSON.stringify(items)).filter((item) => /-1\\d*$/.test(item.name)).length;
  }
  best = Math.min(best, performance.now() - started);
}
process.stdout.write(kept > 0 ? String(best) : 'NaN');
`;

/**
 * How fast this machine is right now: the best of three runs of a fixed piece of JavaScript (JSON round trips and
 * a regular expression over 2,000 small objects; about 50 ms on this project's machine at a quiet time), in
 * milliseconds. The same suite's wall time moves with the machine (shared hosts run it a third slower at busy
 * times), so the figure is printed next to the suite's.
 */
export function machineReference(): number {
  const run = spawnSync(process.execPath, ['-e', REFERENCE], { encoding: 'utf8', timeout: 30_000 });
  return Number(run.stdout);
}

/**
 * Prints one line at the end of every run: how long it took on the wall clock, how many files ran, how busy the
 * machine was and how fast it was (machineReference, before and after the run; it is not part of the wall time),
 * so a figure is never quoted without its context (the README's figures come from this line).
 */
export default class WallTimeReporter implements Reporter {
  #started = performance.now();
  #load = loadavg()[0] ?? 0;
  #reference = 0;

  onInit(): void {
    this.#reference = machineReference();
    this.#started = performance.now();
    this.#load = loadavg()[0] ?? 0;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const seconds = (performance.now() - this.#started) / 1000;
    const load = (loadavg()[0] ?? 0).toFixed(1);
    const after = machineReference();
    process.stdout.write(
      `suite: ${seconds.toFixed(1)} s wall, ${modules.length} files, ${availableParallelism()} CPUs, ` +
        `load average ${this.#load.toFixed(1)} at start and ${load} at the end, ` +
        `machine reference ${this.#reference.toFixed(0)} ms before and ${after.toFixed(0)} ms after (lower is faster)\n`,
    );
  }
}
