import { defineConfig, mergeConfig } from 'vitest/config';
import cluster from './vitest.cluster.config.ts';

/*
 * `npm run test:cluster:groups`: the whole suite on the local Redis Cluster with three
 * queue groups instead of one (docs/scaling-out.md, "Testing"):
 *  - default: echo, hash, collect and callbacks (the types flows use, so flows stay in one slot);
 *  - `slow`: shard 1 of sleep and http.request (a named group holding a shard and a type);
 *  - `sleep~2`: sleep's second shard, in a group of its own named after it.
 * sleep in two shards runs the cancel, long-poll, shutdown and schedule tests on a sharded
 * type, and jobs of echo and sleep on different masters (the test context draws namespaces
 * whose three tags fall on the three masters). Set here, before any test process starts,
 * like the cluster's nodes; a QUEUE_GROUPS or QUEUE_SHARDS already set (even empty) wins.
 */
process.env.QUEUE_GROUPS ??= 'slow=sleep~1,http.request';
process.env.QUEUE_SHARDS ??= 'sleep=2';

export default mergeConfig(cluster, defineConfig({}));
