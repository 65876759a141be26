import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // --expose-gc: a test checks that what the proxy holds weakly is let go.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], execArgv: ['--expose-gc'] } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // e2e suites share one keyring and spawn real processes: keep them in order.
          fileParallelism: false,
        },
      },
    ],
  },
});
