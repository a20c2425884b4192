import { defineConfig } from 'vitest/config';

/**
 * Two lanes (test/README.md). `unit` holds the module tests: no browser, no child process, no nginx or redis-server,
 * at most an in-process server on a loopback port; `npm run test:unit` runs it alone (`--project unit`).
 * Everything with real parts lives under test/scenarios/ and runs in `npm test` with the rest.
 *
 * Files that load both cores (the fuzz run) or whose verdict depends on the machine not being loaded by others (the
 * fault-injection soak counts what a SIGKILL catches in flight) run after everything else, each group alone.
 */
const SCENARIOS = 'test/scenarios/**';
const SOAK = 'test/scenarios/soak/soak.test.ts';
const FUZZ = 'test/scenarios/security/fuzz.test.ts';

export default defineConfig({
  test: {
    // Transport and server tests need Node's fetch, streams and sockets; DOM tests opt into jsdom per file.
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [SCENARIOS],
          typecheck: { enabled: true, include: ['test/types/**/*.test-d.ts'] },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'scenarios', include: ['test/scenarios/**/*.test.ts'], exclude: [SOAK, FUZZ], sequence: { groupOrder: 0 } },
      },
      { extends: true, test: { name: 'soak', include: [SOAK], sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'fuzz', include: [FUZZ], sequence: { groupOrder: 2 } } },
    ],
  },
});
