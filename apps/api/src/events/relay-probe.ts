import type { Keyspace, QueueGroup } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import type { Probed } from './stream-consumer';

/**
 * What Redis said right after a read returned: who listens on jobs:events (undefined where
 * NUMSUB is not asked, on a Cluster), and whether any callback is due at all (the
 * callbacks-due sets of the lane's groups are not all empty).
 */
export interface ProbeAnswer {
  listeners: number | undefined;
  callbacksDue: boolean;
}

/** Queues the relay's questions behind a read: NUMSUB (where it counts every listener), then each group's callbacks due. */
export function queueProbe(pipe: ChainableCommander, keys: Keyspace, groups: readonly QueueGroup[], countListeners: boolean): void {
  if (countListeners) pipe.pubsub('NUMSUB', keys.eventsChannel);
  for (const g of groups) pipe.zcard(keys.callbacksDue(g));
}

/** The answers to queueProbe's questions; null when one failed. */
export function probeAnswer(probed: Probed | undefined, countListeners: boolean): ProbeAnswer | null {
  const answers = probed?.answers;
  if (!answers || answers.some((v) => v instanceof Error)) return null;
  let i = 0;
  const listeners = countListeners ? Number((answers[i++] as [string, number])[1]) : undefined;
  let callbacksDue = false;
  for (; i < answers.length; i++) if (Number(answers[i]) > 0) callbacksDue = true;
  return { listeners, callbacksDue };
}

/** Two reads' answers for one batch: anyone listening after either, any callback due after either. */
export function mergeProbes(a: ProbeAnswer | null, b: ProbeAnswer | null): ProbeAnswer | null {
  if (!a || !b) return null;
  const listeners = a.listeners === undefined || b.listeners === undefined ? undefined : Math.max(a.listeners, b.listeners);
  return { listeners, callbacksDue: a.callbacksDue || b.callbacksDue };
}
