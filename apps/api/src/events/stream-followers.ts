import { closeRedis, type Keyspace, type Logger, type RedisClient } from '@async-jobs/shared';
import { createStreamFollower, type StreamFollower } from './stream-follower';
import { quietDuplicate, streamSets } from './streams';

export interface StreamFollowers {
  /** One follower per stream set (streams.ts streamSets): one on one Redis, one per queue group on a Cluster. */
  readonly all: readonly StreamFollower[];
  close(): Promise<void>;
}

/**
 * The followers of `types`' streams: one on `blocking` on one Redis; on a Cluster one per
 * queue group, each on a blocking connection of its own (the first is `blocking`, the
 * others are opened here and closed by close()), so every master holding a group is
 * followed, each stream by one follower only, and news of one group never waits behind
 * another group's block.
 */
export function createStreamFollowers(
  blocking: RedisClient,
  keys: Keyspace,
  types: readonly string[],
  logger: Logger,
  /** Called with each connection before it reads (e.g. to define the scripts its consumers' probes call). */
  prepare?: (connection: RedisClient) => void,
): StreamFollowers {
  const sets = streamSets(blocking, keys, types);
  const connections = sets.map((_, i) => (i === 0 ? blocking : quietDuplicate(blocking)));
  if (prepare) for (const c of connections) prepare(c);
  const all = sets.map((set, i) => createStreamFollower(connections[i], set, set.group ? logger.child({ group: set.group.name }) : logger));
  let closing: Promise<void> | undefined;
  return {
    all,
    close() {
      closing ??= (async () => {
        await Promise.allSettled(all.map((f) => f.close()));
        await Promise.allSettled(connections.slice(1).map((c) => closeRedis(c)));
      })();
      return closing;
    },
  };
}
