import type { z } from 'zod';
import type { childResultSchema } from './jobs/collect';

/** A child of a flow's parent as its handler sees it (`ctx.childResults`). */
export type ChildResult = z.output<typeof childResultSchema>;

/** A job named by type and id, as a flow's parent and child name each other. */
export interface JobRef {
  id: string;
  type: string;
}

/**
 * The job a BullMQ job key names: `<prefix>:<queue>:<id>`. Queue names (our types) and
 * ids hold no colon, the prefix may (`{ns:aj}`), so the last two parts are read.
 */
export function jobRefOfKey(key: string): JobRef | null {
  const m = /:([^:]+):([^:]+)$/.exec(key);
  return m ? { type: m[1], id: m[2] } : null;
}
