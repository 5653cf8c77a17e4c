import type { RedisClient } from '@async-jobs/shared';
import type { StreamConsumer } from '../apps/api/src/events/stream-consumer';
import type { StreamFollower } from '../apps/api/src/events/stream-follower';

export interface HeldFollower {
  /** Lets the follower hand over what its last read brought and read on. */
  release(): Promise<void>;
}

/**
 * Stops `follower` right after one of its reads has been answered, as a busy process or a
 * consumer that holds reads back does: behind the read after the next one it queues, on the
 * follower's own connection, a push we wait for and a BLPOP of a key only release() fills.
 * Resolves once the follower is stopped; whatever is appended from then on is not read
 * until release(). `nudge` appends something to the followed streams (the reads that get
 * it there return at once rather than after their block time).
 */
export async function holdFollower(redis: RedisClient, follower: StreamFollower, nudge: () => Promise<unknown>): Promise<HeldFollower> {
  // Beside the followed streams (their hash tag), so that on a Cluster they ride in the same pipeline.
  const stopped = `${follower.streams[0]}:test-stopped`;
  const go = `${follower.streams[0]}:test-go`;
  await redis.del(stopped, go);
  let reads = 0;
  const consumer: StreamConsumer = {
    positions: null,
    take: () => undefined,
    probe(pipe) {
      // The read being sent now may start before `nudge` appended anything: the one after it is answered with what came.
      if (++reads !== 2) return;
      pipe.rpush(stopped, '1');
      pipe.blpop(go, 30);
    },
  };
  consumer.positions = await follower.ends();
  follower.add(consumer);
  follower.kick();
  // Each nudge wakes the blocked read; the probe's second read is queued right after one returns.
  for (let tries = 0; (await redis.llen(stopped)) === 0; tries++) {
    if (tries === 200) throw new Error('the follower never read');
    await nudge();
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    async release() {
      follower.remove(consumer);
      await redis.rpush(go, '1');
      await redis.del(stopped);
    },
  };
}
