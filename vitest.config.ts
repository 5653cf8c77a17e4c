import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real Redis and real child processes: give slow machines room, but never hang.
    testTimeout: 30000,
    hookTimeout: 30000,
    teardownTimeout: 10000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // ioredis rejects a Cluster's internal connect promise with this once the cluster client
    // is closed before any seed node answered; only test/redis.cluster-routing.test.ts points
    // an API at a dead cluster (on purpose), and it asserts the 503s that matter. Every other
    // unhandled error still fails the run.
    onUnhandledError: (error) => !/None of startup nodes is available/.test(String((error as Error)?.message ?? error)),
  },
});
