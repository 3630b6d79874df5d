import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the fault suite (test/faults). Each file starts its
 * own PostgreSQL, Redis and gateway processes, so files run one at a time;
 * not part of `npm test`.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
