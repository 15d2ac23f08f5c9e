import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than there are cores: one worker on a 2-core machine, which then
    // sits idle while a spawned server, Chromium or redis-server works (92-100 s). Two workers: 62-70 s; three
    // were no faster and spent more CPU time.
    maxWorkers: 2,
    // One module graph per worker instead of one per test file: loading the MCP SDK, zod and undici again for
    // each of fifty-odd files cost about a third of the suite's CPU time. Test files in one worker share their
    // modules (and so module-level state, e.g. the server's in-process shared state); a test that changes
    // something process-wide (a fake Date, TZ) puts it back before it ends.
    isolate: false,
    // The end-to-end suites spawn the built server; globalSetup builds it once.
    globalSetup: ['test/global-setup.ts'],
    // The last line of every run: wall time, file count and how busy the machine was.
    reporters: ['default', './test/wall-time-reporter.ts'],
  },
});
