import { HttpError, type Keyspace } from '@async-jobs/shared';

/**
 * BullMQ adds a flow (a parent and its children) in one script call, so all of its jobs'
 * queues must share one cluster slot: one queue group (docs/scaling-out.md, "Queue groups
 * and shards"). Throws 400 naming the groups when `types` span more than one; a sharded
 * type spans one group per shard. `path` is where the types sit in the request.
 */
export function assertOneGroup(keys: Keyspace, types: readonly string[], path = 'children'): void {
  const groups = keys.groupsOf(types);
  if (groups.length <= 1) return;
  const names = groups.map((g) => `"${g.name}"`).join(', ');
  const byGroup = groups.map(
    (g) => `${g.name}: ${[...new Set(types)].filter((t) => keys.queuesOf(t).some((q) => keys.layout.groupOfQueue(q) === g)).join(', ')}`,
  );
  throw new HttpError(400, 'validation_failed', `a flow's jobs must all be in one queue group (QUEUE_GROUPS, QUEUE_SHARDS); these are in ${names}`, [
    { path, message: `the flow's types are in queue groups ${names} (${byGroup.join('; ')}); BullMQ runs a flow within one group only` },
  ]);
}
