// Two projects, both run by `npm test`: every test on the embedded default,
// and the Redis tests plus the core contract tests with each server on a
// shared redis-server (TEST_BACKEND=redis, see test/support/backend.ts).
//   npx vitest run --project embedded
//   npx vitest run --project redis
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // Two files at a time: most of a test's time is servers, Redis and a
    // browser starting and waiting on each other, which overlaps well.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'embedded', include: ['test/**/*.test.ts'], exclude: ['test/redis/**'] },
      },
      {
        extends: true,
        test: {
          name: 'redis',
          include: ['test/core/**/*.test.ts', 'test/redis/**/*.test.ts'],
          env: { TEST_BACKEND: 'redis' },
        },
      },
    ],
  },
});
