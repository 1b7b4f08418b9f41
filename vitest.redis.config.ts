// The Redis suite: the Redis tests plus every core contract test with each
// server on a shared redis-server (TEST_BACKEND=redis, see test/support/backend.ts).
//   npx vitest run --config vitest.redis.config.ts
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/core/**/*.test.ts', 'test/redis/**/*.test.ts'],
    env: { TEST_BACKEND: 'redis' },
  },
});
