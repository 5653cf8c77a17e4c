import type { RedisClient } from '@async-jobs/shared';
import { compareIds, entryOf, type StreamEntry } from './streams';

/** How long the entries read for resumes are kept after their last use. */
export const KEEP_MS = 2000;
/** Entries past which a window serves the resumes waiting on it and is not kept: twice what BullMQ keeps of a stream by default. */
export const MAX_KEPT = 20_000;

/** What a resume needs of its job's queue stream: its oldest entry (null: empty) and the job's entries after the client's id. */
export interface ResumeRead {
  oldest: string | null;
  after: StreamEntry[];
}

export interface StreamResumes {
  /** The entries of `jobId` after `afterId` that `stream` (queue `queue`, type `type`) holds, with the stream's oldest id. */
  read(stream: string, queue: string, type: string, jobId: string, afterId: string): Promise<ResumeRead>;
  /** Drops what is kept and its timers. */
  close(): void;
}

/** Raw XRANGE entries of `w`'s stream as entries per job, in stream order. */
function byJob(raw: [string, string[]][], w: Window): Map<string, StreamEntry[]> {
  const out = new Map<string, StreamEntry[]>();
  for (const [id, flat] of raw) {
    const e = entryOf(id, flat, w.queue, w.type);
    if (!e.jobId) continue;
    const list = out.get(e.jobId);
    if (list) list.push(e);
    else out.set(e.jobId, [e]);
  }
  return out;
}

/** Entries of one stream read for resumes: everything after `from` up to `to`, by job. */
interface Window {
  stream: string;
  queue: string;
  type: string;
  from: string;
  to: string;
  oldest: string | null;
  byJob: Map<string, StreamEntry[]>;
  count: number;
  /** The read under way, and the sequence number it was started under. */
  reading: Promise<void> | null;
  readSeq: number;
  timer?: NodeJS.Timeout;
}

/**
 * Reads for event-stream resumes (`Last-Event-ID`), shared between the resumes of one
 * queue's stream that come close together.
 *
 * BullMQ's stream has no index by job, so a resume reads the stream from the client's id to
 * its end, up to its whole length (about 10,000 entries) for an old id, and picks out its
 * job's entries. Each client reading for itself made 200 resumes at once (an API restarted,
 * or a proxy that dropped its connections) cost 24-48 ms of the API's CPU each, holding its
 * one thread for seconds, long enough for other requests' Redis commands to time out (503).
 * So the entries read are kept per stream, by job, for KEEP_MS after their last use, and a
 * later resume reads only what the stream gained since (and, for an older id, what lies
 * before what is kept).
 *
 * A resume is answered only from a read that Redis ran after the resume asked (its read, or
 * one started after it): its route watches the job before asking, so nothing between the two
 * is missed.
 */
export function createStreamResumes(redis: RedisClient): StreamResumes {
  const windows = new Map<string, Window>();
  /** Orders asks and reads: a read started under a higher number than an ask ran after it. */
  let seq = 0;

  function keep(w: Window) {
    clearTimeout(w.timer);
    if (w.count > MAX_KEPT) {
      if (windows.get(w.stream) === w) windows.delete(w.stream);
      return;
    }
    w.timer = setTimeout(() => {
      if (windows.get(w.stream) === w) windows.delete(w.stream);
    }, KEEP_MS);
    w.timer.unref?.();
  }

  /** One read: the stream's oldest id, what lies between `before` and the kept entries (when asked), and what came after them. */
  async function readInto(w: Window, before: string | null): Promise<void> {
    const [first, older, newer] = await Promise.all([
      redis.xrange(w.stream, '-', '+', 'COUNT', 1) as Promise<[string, string[]][]>,
      before === null ? Promise.resolve([]) : (redis.xrange(w.stream, `(${before}`, w.from) as Promise<[string, string[]][]>),
      redis.xrange(w.stream, `(${w.to}`, '+') as Promise<[string, string[]][]>,
    ]);
    w.oldest = first[0]?.[0] ?? null;
    // Older entries go in front of each job's list and newer ones behind it, so each stays in stream order.
    for (const [jobId, list] of byJob(older, w)) w.byJob.set(jobId, list.concat(w.byJob.get(jobId) ?? []));
    for (const [jobId, list] of byJob(newer, w)) w.byJob.set(jobId, (w.byJob.get(jobId) ?? []).concat(list));
    if (before !== null) w.from = before;
    if (newer.length > 0) w.to = newer[newer.length - 1][0];
    w.count += older.length + newer.length;
  }

  /** Resolves once `w` holds everything after `afterId`, from a read started after `asked`. */
  async function fresh(w: Window, afterId: string, asked: number): Promise<void> {
    for (;;) {
      // Judged before waiting: the read under way, once done, serves this resume if it started after the ask.
      const covered = w.readSeq > asked && compareIds(afterId, w.from) >= 0;
      if (w.reading) {
        await w.reading;
        if (covered) return;
        continue;
      }
      if (covered) return;
      w.readSeq = ++seq;
      const before = compareIds(afterId, w.from) < 0 ? afterId : null;
      w.reading = readInto(w, before).finally(() => {
        w.reading = null;
      });
    }
  }

  return {
    async read(stream, queue, type, jobId, afterId) {
      const asked = ++seq;
      let w = windows.get(stream);
      if (!w) {
        w = { stream, queue, type, from: afterId, to: afterId, oldest: null, byJob: new Map(), count: 0, reading: null, readSeq: 0 };
        windows.set(stream, w);
      }
      // A read that fails changes nothing kept (its answers are taken only once all came): the next resume reads again.
      await fresh(w, afterId, asked);
      keep(w);
      const after = (w.byJob.get(jobId) ?? []).filter((e) => compareIds(e.id, afterId) > 0);
      return { oldest: w.oldest, after };
    },
    close() {
      for (const w of windows.values()) clearTimeout(w.timer);
      windows.clear();
    },
  };
}
