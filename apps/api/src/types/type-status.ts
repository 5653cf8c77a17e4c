import { execRouted, type JobQueue, type RedisClient, type RoutedCommand, type TypeLimits } from '@async-jobs/shared';

/** What GET /types adds to a type's definition: read from BullMQ's keys of its queue. */
export interface TypeStatus {
  paused: boolean;
  limits: TypeLimits;
  /** `waiting`: everything queued to run, i.e. BullMQ's wait, prioritized and (legacy) paused lists. */
  counts: { waiting: number; active: number; delayed: number; completed: number; failed: number };
}

/** The commands for one queue, in the order `decode` reads their replies. */
function commandsOf(q: JobQueue): RoutedCommand[] {
  const k = q.keys;
  return [
    { key: k.meta, queue: (p) => void p.hmget(k.meta, 'paused', 'concurrency', 'max', 'duration') },
    { key: k.wait, queue: (p) => void p.llen(k.wait) },
    // BullMQ 6 pauses with a flag in meta and leaves jobs in `wait`; a queue paused by BullMQ 4
    // or earlier moved them to `paused`, which is still counted and still read as queued.
    { key: k.paused, queue: (p) => void p.llen(k.paused) },
    { key: k.prioritized, queue: (p) => void p.zcard(k.prioritized) },
    { key: k.active, queue: (p) => void p.llen(k.active) },
    { key: k.delayed, queue: (p) => void p.zcard(k.delayed) },
    { key: k.completed, queue: (p) => void p.zcard(k.completed) },
    { key: k.failed, queue: (p) => void p.zcard(k.failed) },
  ];
}
const PER_QUEUE = 8;

function decode(replies: unknown[]): TypeStatus {
  const [meta, wait, paused, prioritized, active, delayed, completed, failed] = replies as [(string | null)[], ...number[]];
  const [isPaused, concurrency, max, duration] = meta;
  const limits: TypeLimits = {};
  // As BullMQ's own getters read them: a limit is set when its fields are.
  if (max && duration) limits.rate = { max: Number(max), durationMs: Number(duration) };
  if (concurrency) limits.concurrency = Number(concurrency);
  return {
    paused: isPaused !== null,
    limits,
    counts: { waiting: wait + paused + prioritized, active, delayed, completed, failed },
  };
}

/**
 * The status of every queue in `queues`, in one pipeline (one round trip per Redis node
 * on a Cluster, where types may later live in slots of their own), in the map's order.
 * The counts are one moment's: a job moving between two reads may be counted twice or not.
 */
export async function readTypeStatus(redis: RedisClient, queues: ReadonlyMap<string, JobQueue>): Promise<Map<string, TypeStatus>> {
  const list = [...queues];
  const replies = await execRouted(
    redis,
    list.flatMap(([, q]) => commandsOf(q)),
  );
  return new Map(
    list.map(([type], i) => {
      const mine = replies.slice(i * PER_QUEUE, (i + 1) * PER_QUEUE).map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      return [type, decode(mine)];
    }),
  );
}
