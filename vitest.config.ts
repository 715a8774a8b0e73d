import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers (dynalite, smtp-server, HTTP recorders) on loopback.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
