import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The end-to-end suites spawn the built server; globalSetup builds it once.
    globalSetup: ['test/global-setup.ts'],
  },
});
