import { defineConfig } from 'vitest/config';

/**
 * e2e files that cannot share the machine with others: they lock, replace or hammer the test keyring (migrate killed
 * after each of its steps), drive dialogs through the display's one keyboard focus (xdotool, XTest typing in
 * test/helpers/atspi-driver.py), or count windows on the whole display. They run one at a time, after the rest. Groups run in order: unit, then the independent e2e files two at a
 * time (their waits are mostly on real processes), then these.
 */
const serialE2e = [
  'test/e2e/canary.test.ts',
  'test/e2e/connect-flow.test.ts',
  'test/e2e/consent-once.test.ts',
  'test/e2e/core-dumps.test.ts',
  'test/e2e/dialog-driver.test.ts',
  'test/e2e/dialog-min-length.test.ts',
  'test/e2e/display-fallback.test.ts',
  'test/e2e/display-wayland.test.ts',
  'test/e2e/inline-dialog.test.ts',
  'test/e2e/keyring-store.test.ts',
  'test/e2e/locked-keychain.test.ts',
  'test/e2e/migrate-sigkill.test.ts',
  'test/e2e/native-dialog.test.ts',
  'test/e2e/zenity-geometry.test.ts',
];

const e2e = { testTimeout: 30_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    projects: [
      // --expose-gc: a test checks that what the proxy holds weakly is let go.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], execArgv: ['--expose-gc'], sequence: { groupOrder: 0 } } },
      {
        // Independent e2e files: own server names, configs and state dirs, no window of their own.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], exclude: serialE2e, ...e2e, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
      {
        test: {
          name: 'e2e-serial',
          include: serialE2e,
          ...e2e,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
