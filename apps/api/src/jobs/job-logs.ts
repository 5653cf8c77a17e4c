import { createHash } from 'node:crypto';
import { isTerminal, type JobLogPage, type JobQueue, type JobRecord } from '@async-jobs/shared';

/**
 * A cursor is a position in the job's log (BullMQ's list `<job>:logs`, oldest first) and a
 * digest of the line just before it. The position alone would drift: past JOB_LOG_LINES,
 * each new line drops the oldest (BullMQ's keepLogs), shifting every position left. The
 * digest finds the line again where it moved, so a reader following a long log neither
 * skips lines nor stalls at a position the list no longer grows past.
 */
interface Cursor {
  offset: number;
  digest: string;
}

const digestOf = (line: string) => createHash('sha256').update(line).digest('base64url').slice(0, 12);

export function encodeLogCursor(c: Cursor): string {
  return Buffer.from(`${c.offset}.${c.digest}`, 'utf8').toString('base64url');
}

/** The cursor, or null when it is not one this API returned. */
export function decodeLogCursor(raw: string): Cursor | null {
  const m = /^(\d{1,9})\.([A-Za-z0-9_-]{0,12})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  return m ? { offset: Number(m[1]), digest: m[2] } : null;
}

/** Where the line after the one the cursor names is now (0 when that line itself was dropped). */
async function resume(queue: JobQueue, id: string, c: Cursor): Promise<number> {
  if (c.offset === 0) return 0;
  const [before] = (await queue.getJobLogs(id, c.offset - 1, c.offset - 1)).logs;
  if (before !== undefined && digestOf(before) === c.digest) return c.offset;
  const kept = (await queue.getJobLogs(id, 0, c.offset - 1)).logs;
  let i = kept.length - 1;
  while (i >= 0 && digestOf(kept[i]) !== c.digest) i--;
  return i + 1;
}

/**
 * One page of a job's log, read from BullMQ (`Queue.getJobLogs`), so lines written by any
 * BullMQ worker show. `nextCursor` is null only once the job has ended and every line was
 * returned; while it runs, a reader asks again with it for the lines that come.
 */
export async function readLogPage(queue: JobQueue, record: JobRecord, cursor: Cursor | null, limit: number): Promise<JobLogPage> {
  const start = cursor ? await resume(queue, record.id, cursor) : 0;
  const { logs, count } = await queue.getJobLogs(record.id, start, start + limit - 1);
  const end = start + logs.length;
  const more = end < count || !isTerminal(record.state);
  const last = logs.at(-1) ?? null;
  // With no line read, the line before `start` is still the one the cursor named.
  const next: Cursor = last !== null ? { offset: end, digest: digestOf(last) } : { offset: start, digest: start === 0 ? '' : (cursor?.digest ?? '') };
  return { logs: logs.map((message) => ({ message })), nextCursor: more ? encodeLogCursor(next) : null };
}
