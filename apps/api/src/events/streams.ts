import type { RedisClient } from '@async-jobs/shared';

/** One entry of a queue's BullMQ event stream, as readers here use it. */
export interface StreamEntry {
  /** The stream entry id: also the SSE event id. */
  id: string;
  /** The queue, i.e. the job type. */
  type: string;
  /** BullMQ's event name: added, waiting, delayed, active, progress, completed, failed, removed, … */
  event: string;
  jobId: string | undefined;
  /** The entry's other fields (`prev`, `data`, `returnvalue`, `failedReason`, …). */
  fields: Record<string, string>;
}

/** How long one XREAD waits for news; it returns as soon as there is any. */
export const BLOCK_MS = 1000;

type XReadReply = [string, [string, string[]][]][] | null;

function entryOf(id: string, flat: string[], type: string): StreamEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return { id, type, event: fields.event, jobId: fields.jobId, fields };
}

/** Where each stream ends now ("0-0" for one that does not exist yet): reading from there misses nothing later. */
export async function streamPositions(redis: RedisClient, streams: readonly string[]): Promise<string[]> {
  const pipe = redis.pipeline();
  for (const s of streams) pipe.xrevrange(s, '+', '-', 'COUNT', 1);
  const replies = (await pipe.exec()) ?? [];
  return replies.map(([err, r]) => {
    if (err) throw err;
    const last = r as [string, string[]][];
    return last[0]?.[0] ?? '0-0';
  });
}

/**
 * An XREAD reply as entries per stream (`undefined` where a stream had none), in the
 * order of `streams`; `types[i]` names the queue of `streams[i]`.
 */
export function readReply(reply: unknown, streams: readonly string[], types: readonly string[]): (StreamEntry[] | undefined)[] {
  const out: (StreamEntry[] | undefined)[] = new Array(streams.length);
  if (!reply) return out;
  for (const [key, entries] of reply as NonNullable<XReadReply>) {
    const i = streams.indexOf(key);
    if (i < 0 || entries.length === 0) continue;
    const type = types[i];
    out[i] = entries.map(([id, flat]) => entryOf(id, flat, type));
  }
  return out;
}

/** The entries of one job after `afterId` that the stream still holds (BullMQ trims it to about 10,000). */
export async function entriesOfJob(redis: RedisClient, stream: string, type: string, jobId: string, afterId: string): Promise<StreamEntry[]> {
  const raw = (await redis.xrange(stream, `(${afterId}`, '+')) as [string, string[]][];
  return raw.map(([id, flat]) => entryOf(id, flat, type)).filter((e) => e.jobId === jobId);
}

/** The oldest id the stream still holds, or null when it is empty. */
export async function oldestEntryId(redis: RedisClient, stream: string): Promise<string | null> {
  const first = (await redis.xrange(stream, '-', '+', 'COUNT', 1)) as [string, string[]][];
  return first[0]?.[0] ?? null;
}

/** Orders two stream ids. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}

export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
