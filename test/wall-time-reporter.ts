import { availableParallelism, loadavg } from 'node:os';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one line at the end of every run: how long it took on the wall clock, how many files ran, and how busy
 * the machine was, so a figure is never quoted without its context (the README's figure comes from this line).
 */
export default class WallTimeReporter implements Reporter {
  #started = performance.now();
  #load = loadavg()[0] ?? 0;

  onInit(): void {
    this.#started = performance.now();
    this.#load = loadavg()[0] ?? 0;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const seconds = (performance.now() - this.#started) / 1000;
    const load = (loadavg()[0] ?? 0).toFixed(1);
    process.stdout.write(
      `suite: ${seconds.toFixed(1)} s wall, ${modules.length} files, ${availableParallelism()} CPUs, ` +
        `load average ${this.#load.toFixed(1)} at start and ${load} at the end\n`,
    );
  }
}
