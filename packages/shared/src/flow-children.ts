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
 * The job a BullMQ job key names: `<prefix>:<queue>:<id>`. Queue names and ids hold no
 * colon, the prefix may (`{ns:aj}`), so the last two parts are read; a shard's queue
 * (`echo~2`) names its type (`echo`), which is what clients know.
 */
export function jobRefOfKey(key: string): JobRef | null {
  const m = /:([^:]+):([^:]+)$/.exec(key);
  if (!m) return null;
  const shard = m[1].indexOf(SHARD_MARK);
  return { type: shard === -1 ? m[1] : m[1].slice(0, shard), id: m[2] };
}
