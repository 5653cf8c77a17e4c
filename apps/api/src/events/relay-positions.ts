import type { Keyspace, QueueGroup } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import type { StreamSet } from './streams';

/** Queues on `pipe` the saving of `positions` (by stream) of `set`'s streams, each under its queue's group. */
export function savePositions(pipe: ChainableCommander, keys: Keyspace, set: StreamSet, positions: Record<string, string>): void {
  const byGroup = new Map<QueueGroup, Record<string, string>>();
  for (const [i, stream] of set.streams.entries()) {
    if (positions[stream] === undefined) continue;
    const g = keys.layout.groupOfQueue(set.queues[i]);
    const h = byGroup.get(g) ?? {};
    byGroup.set(g, h);
    h[stream] = positions[stream];
  }
  for (const [g, h] of byGroup) pipe.hset(keys.relayPositions(g), h);
}

/**
 * The newest positions a relay lane has handled and not yet sent to Redis. Every write of the
 * lane's positions goes through here and takes them: whichever write goes next (a batch's
 * questions, its publishes, the lease renewal's flush) carries the newest, and an older
 * set can never be written after a newer one, on the one connection all of them use.
 */
export function unsentPositions(keys: Keyspace, set: StreamSet) {
  let newest: Record<string, string> | null = null;
  return {
    handled(positions: Record<string, string>) {
      newest = positions;
    },
    /** Queues them on `pipe`, which carries them from now on: what it carries, or null when there are none. */
    rideOn(pipe: ChainableCommander): Record<string, string> | null {
      const carried = newest;
      if (carried) savePositions(pipe, keys, set, carried);
      newest = null;
      return carried;
    },
    /** The write that carried them failed: they go with the next one, unless newer ones came meanwhile. */
    restore(carried: Record<string, string>) {
      newest ??= carried;
    },
    /** The relay stopped: what it handled is read again by whoever relays next. */
    drop() {
      newest = null;
    },
  };
}

export type UnsentPositions = ReturnType<typeof unsentPositions>;
