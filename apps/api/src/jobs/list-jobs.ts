import { execRouted, jobTypeNames, type JobRecord, type JobState, type QueueGroup } from '@async-jobs/shared';
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

/** One index to read: the jobs of one type in one group. */
interface Source {
  key: string;
  group: QueueGroup;
  type: string;
}

/**
 * One page, newest first: reads index entries after the cursor in chunks, their
 * records in one pipeline per chunk, keeps those that still exist and match the
 * filter, and removes the entries whose record has expired.
 *
 * Each type has its own index in each group that holds its queues (written in the job's
 * transaction), and a page merges the ones it lists: each chunk takes up to `chunk`
 * entries after the cursor from every one of them (one round trip per node) and keeps the
 * newest `chunk` of all. Members order the same way in every index (submit time,
 * sequence, id), so the cursor, the last member a page showed, stays one opaque string
 * that means the same place in every index. A listing of every type reads up to
 * `indexes × chunk` entries for `chunk` kept; in exchange a submit writes one index entry
 * per job, not a second one in an index of every job (a fifth of a finished job's bytes).
 */
export async function listJobs(ctx: AppContext, q: ListRequest): Promise<ListPage> {
  const { keys } = ctx;
  const sources: Source[] = (q.type ? [q.type] : jobTypeNames).flatMap((type) =>
    keys.layout.groupsOf([type]).map((group) => ({ key: keys.typeIndex(group, type), group, type })),
  );
  const jobs: JobRecord[] = [];
  const gone: { member: string; source: Source }[] = [];
  let last = q.after;
  let scanned = 0;
  let more = true;
  while (jobs.length < q.limit && scanned < MAX_SCANNED) {
    const want = q.limit - jobs.length;
    // One extra entry tells whether anything follows, so the last page says nextCursor: null.
    const chunk = Math.min(q.state ? Math.max(want * 2, 100) : want, MAX_SCANNED - scanned) + 1;
    const from = last ? `(${last}` : '+';
    const replies = await execRouted(
      ctx.redis,
      sources.map((src) => ({ key: src.key, queue: (pipe) => void pipe.zrevrangebylex(src.key, from, '-', 'LIMIT', 0, chunk) })),
    );
    const merged = replies
      .flatMap(([err, members], k) => {
        if (err) throw err;
        return (members as string[]).map((member) => ({ member, source: sources[k] }));
      })
      .sort((a, b) => (a.member < b.member ? 1 : a.member > b.member ? -1 : 0));
    const members = merged.slice(0, chunk);
    const examined = members.slice(0, chunk - 1);
    const records = await ctx.store.readMany(
      examined.map((m) => memberId(m.member) ?? ''),
      examined.map((m) => m.source.type),
    );
    more = members.length === chunk;
    let i = 0;
    for (; i < examined.length && jobs.length < q.limit; i++) {
      const r = records[i];
      if (!r) gone.push(examined[i]);
      else if (!q.state || r.state === q.state) jobs.push(r);
    }
    scanned += i;
    if (i > 0) last = examined[i - 1].member;
    // Stopped inside the chunk (page full): what follows is unread, so there is more.
    if (i < examined.length) more = true;
    if (!more) break;
  }
  // Lazy cleanup; a failure here costs nothing but a later retry.
  if (gone.length > 0) {
    await execRouted(
      ctx.redis,
      gone.map((g) => ({ key: g.source.key, queue: (pipe) => void pipe.zrem(g.source.key, g.member) })),
    ).catch(() => undefined);
  }
  return { jobs, nextCursor: more && last ? encodeCursor(last) : null };
}
