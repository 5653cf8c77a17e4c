import type { JobRecord, JobState } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { encodeCursor, memberId } from './job-index';

export interface ListRequest {
  type?: string;
  state?: JobState;
  limit: number;
  /** The member the previous page ended on (decoded cursor). */
  after?: string;
}

export interface ListPage {
  jobs: JobRecord[];
  nextCursor: string | null;
}

/**
 * Index entries one request may look at. A state filter may have to pass over many
 * jobs in other states; past this bound the page is returned short, with a cursor
 * to continue from, rather than letting one request scan the whole index.
 */
export const MAX_SCANNED = 1000;

/**
 * One page, newest first: reads index entries after the cursor in chunks, their
 * records in one pipeline per chunk, keeps those that still exist and match the
 * filter, and removes the entries whose record has expired.
 */
export async function listJobs(ctx: AppContext, q: ListRequest): Promise<ListPage> {
  const index = q.type ? ctx.keys.typeIndex(q.type) : ctx.keys.jobIndex;
  const jobs: JobRecord[] = [];
  const gone: string[] = [];
  let last = q.after;
  let scanned = 0;
  let more = true;
  while (jobs.length < q.limit && scanned < MAX_SCANNED) {
    const want = q.limit - jobs.length;
    // One extra entry tells whether anything follows, so the last page says nextCursor: null.
    const chunk = Math.min(q.state ? Math.max(want * 2, 100) : want, MAX_SCANNED - scanned) + 1;
    const members = await ctx.redis.zrevrangebylex(index, last ? `(${last}` : '+', '-', 'LIMIT', 0, chunk);
    const examined = members.slice(0, chunk - 1);
    const records = await ctx.store.readMany(
      examined.map((m) => memberId(m) ?? ''),
      examined.map(() => q.type),
    );
    more = members.length === chunk;
    let i = 0;
    for (; i < examined.length && jobs.length < q.limit; i++) {
      const r = records[i];
      if (!r) gone.push(examined[i]);
      else if (!q.state || r.state === q.state) jobs.push(r);
    }
    scanned += i;
    if (i > 0) last = examined[i - 1];
    // Stopped inside the chunk (page full): what follows is unread, so there is more.
    if (i < examined.length) more = true;
    if (!more) break;
  }
  // Lazy cleanup; a failure here costs nothing but a later retry.
  if (gone.length > 0) await ctx.redis.zrem(index, ...gone).catch(() => undefined);
  return { jobs, nextCursor: more && last ? encodeCursor(last) : null };
}
