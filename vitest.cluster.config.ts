import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

// `npm run test:cluster`: the same suite against the local Redis Cluster of
// scripts/cluster-up.sh. Set here, before any test process starts, so that the global
// setup and every test file (test/helpers.ts) see it.
process.env.TEST_REDIS_CLUSTER_NODES ||= '127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        ...configDefaults.exclude,
        // These start, stop and restart a single redis-server of their own to inject the
        // fault; they never touch the cluster, so here they would only repeat `npm test`.
        'test/faults/redis-restart.test.ts',
        'test/faults/redis-late.test.ts',
      ],
    },
  }),
);
