import { enqueueCallback, isTerminal, type Config, type Keyspace, type Logger, type QueueGroup, type RedisClient, type ResultsStore } from '@async-jobs/shared';
import type { Queue } from 'bullmq';
import { execOrThrow } from '../redis-exec';
import type { Gap } from './streams';
import { wakeableSleep } from './wakeable-sleep';

/** A finished job to hand to callback delivery, and the name of its ending. */
export interface EndedJob {
  id: string;
  type: string;
  outcome: string;
}

export interface CallbackDeps {
  config: Config;
  keys: Keyspace;
  redis: RedisClient;
  store: ResultsStore;
  callbackQueue: Queue;
  logger: Logger;
}

/** Looks for the callbacks of one relay lane's groups whose ending entries were trimmed unread. */
export interface CallbackSweeper {
  /** Entries of these spans were lost: their jobs' callbacks are looked for, now or after the running sweep. */
  missed(gaps: readonly Gap[]): void;
  /** Ends a retry pause; resolves when the running sweep (if any) is done. */
  close(): Promise<void>;
}

/** Jobs read at once when looking for callbacks whose ending entries were trimmed unread. */
const SWEEP_CHUNK = 500;
/** How far a worker's clock (a job's finish time) may be from Redis's (its entries' ids). */
const CLOCK_SLACK_MS = 1000;

/** The time part of a stream entry id, ms. */
const idMs = (id: string) => Number(id.split('-')[0]);

/**
 * The relay's side of completion callbacks: it hands each finished job that asked for one
 * to delivery (the workers send it), and, when entries were trimmed before the relay read
 * them, finds the jobs whose endings those entries told. `isClosed` stops a sweep.
 */
export function callbackHandover(deps: CallbackDeps, isClosed: () => boolean) {
  const { keys, logger } = deps;
  const groupOf = (j: { id: string; type: string }) => keys.layout.groupOfQueue(keys.queueOf(j.type, j.id));

  /**
   * Queues the delivery of each finished job that asked for a callback; its URL is in its
   * tombstone. Throws when one could not be queued: the caller tries the lot again. `outcome`
   * names the ending (its stream entry's id, or its finish time when that entry was lost):
   * the same ending is delivered once.
   */
  async function handOver(ended: readonly EndedJob[]): Promise<void> {
    const pipe = deps.redis.pipeline();
    for (const j of ended) pipe.hget(keys.tombstone(j.type, j.id), 'u');
    const urls = (await execOrThrow(pipe)) as (string | null)[];
    // Tried again whole: the handed-over neighbours come twice, and a delivery job's id names
    // the ending, so each is still delivered once.
    const queued = await Promise.allSettled(
      ended.map((j, i) => (urls[i] ? enqueueCallback(deps.callbackQueue, deps.config, { id: j.id, type: j.type }, urls[i], j.outcome) : undefined)),
    );
    const failed = queued.findIndex((q) => q.status === 'rejected');
    if (failed >= 0) {
      const err = (queued[failed] as PromiseRejectedResult).reason as Error;
      logger.error({ jobId: ended[failed].id, err: err.message }, 'could not queue the completion callback; the batch is read again');
      throw err;
    }
    // Handed over: nothing is due until an operator runs the job again (restoreDue). Left in
    // the set, a job kept the relay reading at its quick pace for as long as its tombstone
    // lived (8 days by default), which cost a drain 13-35 % of its speed. A removal Redis
    // refuses is not worth a repeat: housekeeping drops the entry when its tombstone lapses.
    const done = deps.redis.pipeline();
    for (const j of ended) done.zrem(keys.callbacksDue(groupOf(j)), j.id);
    await done.exec().catch(() => undefined);
  }

  /**
   * Jobs an operator ran again after they ended (a retry by hand): due again if they asked
   * for a callback, until their tombstone (which holds the URL) lapses, as at submit.
   */
  async function restoreDue(jobs: readonly { id: string; type: string }[]): Promise<void> {
    const read = deps.redis.pipeline();
    for (const j of jobs) read.hget(keys.tombstone(j.type, j.id), 'u').pttl(keys.tombstone(j.type, j.id));
    const answers = (await execOrThrow(read)) as (string | number | null)[];
    const write = deps.redis.pipeline();
    const now = Date.now();
    for (const [i, j] of jobs.entries()) {
      const [url, ttl] = [answers[2 * i], Number(answers[2 * i + 1])];
      if (url && ttl > 0) write.zadd(keys.callbacksDue(groupOf(j)), now + ttl, j.id);
    }
    if (write.length > 0) await execOrThrow(write);
  }

  /**
   * The jobs due a callback that ended within a span of time in their queue (their ending
   * entries may be what was lost) are read, and each ended one handed to delivery under its
   * finish time. The set is walked with ZSCAN, SWEEP_CHUNK at a time, so a large one never
   * arrives in one reply. An ending read normally near a gap's edges may be delivered twice
   * (once per outcome name): receivers see at-least-once, never a loss.
   */
  async function sweep(groups: readonly QueueGroup[], spans: ReadonlyMap<string, readonly [number, number]>): Promise<boolean> {
    try {
      for (const g of groups) {
        let cursor = '0';
        do {
          const [next, flat] = await deps.redis.zscan(keys.callbacksDue(g), cursor, 'COUNT', SWEEP_CHUNK);
          cursor = next;
          // Member, score, member, score, …
          const ids = flat.filter((_, i) => i % 2 === 0);
          if (ids.length === 0) continue;
          const jobs = await deps.store.readMany(
            ids,
            ids.map(() => ({ group: g })),
          );
          const ended: EndedJob[] = [];
          for (const job of jobs) {
            const finished = job?.finishedAt ? Date.parse(job.finishedAt) : Number.NaN;
            if (!job || !isTerminal(job.state) || Number.isNaN(finished)) continue;
            const span = spans.get(keys.queueOf(job.type, job.id));
            if (span && finished >= span[0] && finished <= span[1]) ended.push({ id: job.id, type: job.type, outcome: `f${finished}` });
          }
          if (ended.length > 0) await handOver(ended);
        } while (cursor !== '0' && !isClosed());
      }
      return true;
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not look for callbacks whose events were trimmed unread; trying again');
      return false;
    }
  }

  /** One lane's sweeper, over `groups`. */
  function sweeper(groups: readonly QueueGroup[]): CallbackSweeper {
    /**
     * Per queue, the span of finish times (ms) to look in: the gaps found since the running
     * sweep (if any) took its own. A burst that outruns the reads finds a gap on read after
     * read; their spans merge, so one sweep covers many.
     */
    let unswept = new Map<string, [number, number]>();
    const toSweep = (queue: string, from: number, to: number) => {
      const span = unswept.get(queue);
      unswept.set(queue, span ? [Math.min(span[0], from), Math.max(span[1], to)] : [from, to]);
    };
    let sweeping: Promise<void> | null = null;
    const { sleep: pause, wake } = wakeableSleep();
    return {
      missed(gaps) {
        for (const g of gaps) toSweep(g.queue, idMs(g.after) - CLOCK_SLACK_MS, idMs(g.firstHeld) + CLOCK_SLACK_MS);
        sweeping ??= (async () => {
          for (let tries = 0; unswept.size > 0 && !isClosed(); ) {
            const spans = unswept;
            unswept = new Map();
            if (await sweep(groups, spans)) tries = 0;
            else {
              // Nothing else would look at these spans again: they wait for the next try.
              for (const [queue, [from, to]] of spans) toSweep(queue, from, to);
              await pause(Math.min(200 * ++tries, 5000));
            }
          }
          sweeping = null;
        })();
      },
      async close() {
        wake();
        await sweeping;
      },
    };
  }

  return { handOver, restoreDue, sweeper };
}
