import { isCluster, type Keyspace, type QueueGroup, type RedisClient } from '@async-jobs/shared';
import type { ChainableCommander, Redis } from 'ioredis';

/** One entry of a queue's BullMQ event stream, as readers here use it. */
export interface StreamEntry {
  /** The stream entry id: also the SSE event id. */
  id: string;
  /** The job type (job.name; the queue's type when the queue is a shard). */
  type: string;
  /** The queue whose stream holds the entry: the type, or one shard of it (`echo~2`). */
  queue: string;
  /** BullMQ's event name: added, waiting, delayed, active, progress, completed, failed, removed, … */
  event: string;
  jobId: string | undefined;
  /** The entry's other fields (`prev`, `data`, `returnvalue`, `failedReason`, …). */
  fields: Record<string, string>;
}

/**
 * Entries BullMQ trimmed from a queue's stream (it keeps about the last 10,000) before a
 * reader got them: some or all of what lay after `after` and before `firstHeld`.
 */
export interface Gap {
  stream: string;
  queue: string;
  type: string;
  /** The reader's position when the read found the gap ("0-0": it had none of the stream yet). */
  after: string;
  /** The oldest entry the stream held then. */
  firstHeld: string;
}

/** What a stream held right after a read: its oldest entry, and (when asked with XINFO) whether any entry was ever trimmed. */
export interface Held {
  firstHeld: string | null;
  trimmedAny?: boolean;
}

/**
 * Queues, on a read's pipeline, the question of what `stream` still holds: XRANGE's first
 * entry, or for a reader with nothing of the stream yet ("0-0"), XINFO STREAM, whose count
 * of entries ever added beside its length tells whether the first were trimmed.
 */
export function askHeld(pipe: ChainableCommander, stream: string, from: string): void {
  if (from === '0-0') pipe.xinfo('STREAM', stream);
  else pipe.xrange(stream, '-', '+', 'COUNT', 1);
}

/** askHeld's answer (an error, e.g. no such stream, tells nothing). */
export function heldOf(answer: unknown): Held | undefined {
  if (answer instanceof Error || !Array.isArray(answer)) return undefined;
  if (answer.length === 0 || Array.isArray(answer[0])) return { firstHeld: (answer as [string, string[]][])[0]?.[0] ?? null };
  const info = streamInfo(answer);
  const added = info.get('entries-added');
  const first = info.get('first-entry') as [string, string[]] | null | undefined;
  // Redis before 7 does not count entries added: no gap can be told from there.
  return { firstHeld: first?.[0] ?? null, trimmedAny: added === undefined ? false : Number(added) > Number(info.get('length')) };
}

/** XINFO STREAM's flat reply (field, value, …) as a map. */
function streamInfo(reply: unknown[]): Map<string, unknown> {
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) info.set(String(reply[i]), reply[i + 1]);
  return info;
}

/**
 * Whether a reader at `at` missed entries, by what its stream held right after the read.
 * A stream trimmed to nothing (XTRIM MAXLEN 0; BullMQ keeps about 10,000) is not told: with
 * no entry held there is nothing to tell the span by, and it would be told on every read.
 */
export function missedAfter(held: Held, at: string): boolean {
  if (held.firstHeld === null) return false;
  if (at === '0-0') return held.trimmedAny === true;
  // BullMQ trims from the head only: the reader's own last entry gone means what followed it may be too.
  return compareIds(held.firstHeld, at) > 0;
}

/** How long one XREAD waits for news; it returns as soon as there is any. */
export const BLOCK_MS = 1000;

type XReadReply = [string, [string, string[]][]][] | null;

export function entryOf(id: string, flat: string[], queue: string, type: string): StreamEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return { id, type, queue, event: fields.event, jobId: fields.jobId, fields };
}

/**
 * Streams one XREAD may name together: on one Redis, every queue's; on a Cluster, the
 * queues of one group (one slot: XREAD cannot span slots). Each set is read by its own
 * blocking connection, so news in one group never waits for another group's block.
 */
export interface StreamSet {
  /** The group of the set's queues, or null for every group at once (one Redis). */
  group: QueueGroup | null;
  queues: string[];
  streams: string[];
  types: string[];
}

/**
 * Another blocking connection like `redis`, for one more group's read loop. Its failures
 * reach the loop as failed reads (which retry and log); the listener only keeps ioredis
 * from printing every reconnect error as unhandled.
 */
export function quietDuplicate(redis: RedisClient): RedisClient {
  const copy = (redis as Redis).duplicate() as RedisClient;
  copy.on('error', () => undefined);
  return copy;
}

export function streamSets(redis: RedisClient, keys: Keyspace, types: readonly string[]): StreamSet[] {
  const queues = types.flatMap((t) => keys.queuesOf(t));
  const make = (group: QueueGroup | null, qs: string[]): StreamSet => ({
    group,
    queues: qs,
    streams: qs.map((q) => keys.events(q)),
    types: qs.map((q) => keys.layout.typeOfQueue(q)),
  });
  if (!isCluster(redis)) return [make(null, queues)];
  return keys.groups
    .map((g) =>
      make(
        g,
        queues.filter((q) => keys.layout.groupOfQueue(q) === g),
      ),
    )
    .filter((s) => s.queues.length > 0);
}

/**
 * Where each stream ends now: the id of the last entry it was ever given (held or since
 * trimmed), or "0-0" for one that does not exist yet. Reading from there misses nothing
 * later, and a stream that exists but was trimmed empty is not mistaken for a new one
 * whose first entries a reader missed.
 */
export async function streamPositions(redis: RedisClient, streams: readonly string[]): Promise<string[]> {
  const pipe = redis.pipeline();
  for (const s of streams) pipe.xinfo('STREAM', s);
  const replies = (await pipe.exec()) ?? [];
  return replies.map(([err, r]) => {
    if (err) {
      if (NO_SUCH_STREAM.test(err.message)) return '0-0';
      throw err;
    }
    return String(streamInfo(r as unknown[]).get('last-generated-id') ?? '0-0');
  });
}

/** XINFO STREAM's answer for a key that does not exist. */
const NO_SUCH_STREAM = /no such key/i;

/**
 * An XREAD reply of `set`'s streams as entries per stream (`undefined` where a stream had
 * none), in the order of `set.streams`.
 */
export function readReply(reply: unknown, set: Pick<StreamSet, 'streams' | 'queues' | 'types'>): (StreamEntry[] | undefined)[] {
  const { streams } = set;
  // Filled, not holes: map() and forEach() skip holes, and a stream that brought nothing must still be seen.
  const out: (StreamEntry[] | undefined)[] = new Array(streams.length).fill(undefined);
  if (!reply) return out;
  for (const [key, entries] of reply as NonNullable<XReadReply>) {
    const i = streams.indexOf(key);
    if (i < 0 || entries.length === 0) continue;
    const queue = set.queues[i];
    const type = set.types[i];
    out[i] = entries.map(([id, flat]) => entryOf(id, flat, queue, type));
  }
  return out;
}

/** Orders two stream ids. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}

export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
