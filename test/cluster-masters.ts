import { keySlot, type QueueGroup } from '@async-jobs/shared';

/** One range of slots of a Redis Cluster and the master that serves it (global-setup.ts reads them). */
export interface MasterSlots {
  start: number;
  end: number;
  master: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Empty when the suite runs on one Redis. */
    clusterMasters: MasterSlots[];
  }
}

/** The masters that would hold `groups`' keys: one index per group, in group order. */
export function mastersOf(groups: readonly QueueGroup[], ranges: readonly MasterSlots[]): number[] {
  return groups.map((g) => {
    const slot = keySlot(g.prefix);
    return ranges.find((r) => slot >= r.start && slot <= r.end)?.master ?? -1;
  });
}

/**
 * Whether `groups` are spread over as many masters as they can be (each on its own while
 * there are masters to spare). A hash tag's slot is fixed by its text, so with a random
 * namespace three groups land on three masters only 2 times in 9: the test context draws
 * namespaces until they do, so that every file of a grouped run crosses masters.
 */
export function spreadOverMasters(groups: readonly QueueGroup[], ranges: readonly MasterSlots[]): boolean {
  const masters = new Set(ranges.map((r) => r.master));
  return new Set(mastersOf(groups, ranges)).size === Math.min(groups.length, masters.size);
}
