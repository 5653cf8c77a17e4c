import type { z } from 'zod';
import type { childResultSchema } from './jobs/collect';
import { SHARD_MARK } from './queue-layout';

/** A child of a flow's parent as its handler sees it (`ctx.childResults`). */
export type ChildResult = z.output<typeof childResultSchema>;

/** A job named by type and id, as a flow's parent and child name each other. */
export interface JobRef {
  id: string;
  type: string;
}

/**
 * The job a BullMQ job key names: `<prefix>:<queue>:<id>`. A queue name holds no colon
 * (BullMQ refuses one). Our prefixes are a hash tag, which may hold one (`{ns:aj}`), and
 * ids may too (a schedule's runs are `repeat:<key>:<ms>`): after a hash tag the queue is
 * the next part and the id the rest. Another prefix (a foreign producer's, colon-free as
 * BullMQ's default `bull`) leaves the last two parts. A shard's queue (`echo~2`) names its
 * type (`echo`), which is what clients know.
 */
export function jobRefOfKey(key: string): JobRef | null {
  const m = /^\{[^}]*\}:([^:]+):(.+)$/.exec(key) ?? /:([^:]+):([^:]+)$/.exec(key);
  if (!m) return null;
  const shard = m[1].indexOf(SHARD_MARK);
  return { type: shard === -1 ? m[1] : m[1].slice(0, shard), id: m[2] };
}
