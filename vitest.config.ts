import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Transport and server tests need Node's fetch, streams and sockets; DOM tests opt into jsdom per file.
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, include: ['test/types/**/*.test-d.ts'] },
  },
});
