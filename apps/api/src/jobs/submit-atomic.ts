import { Job } from 'bullmq';
import { HttpError, isCluster, type JobRecord, type QueueGroup } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { isRedisUnavailable } from '../middleware/redis-errors';
import { bullOptionsOf, submittedView } from './job-build';
import { reserveOrder } from './job-index';
import { defineSubmitExtras, submitExtrasWrites } from './submit-extras';
import { submitTransaction, type SubmitTransaction } from './submit-transaction';
import type { Submission } from './validate-submission';

/** ioredis refused to send: nothing reached Redis. */
const NOT_SENT = /Stream isn't writeable|enableOfflineQueue/;

/**
 * The connection dropped after the transaction was sent: Redis may have committed it
 * (it stopped before its reply went out), so "nothing was written" would be untrue.
 */
export function outcomeUnknown(err: unknown): unknown {
  if (!isRedisUnavailable(err) || NOT_SENT.test((err as Error).message)) return err;
  return new HttpError(
    503,
    'unavailable',
    'Redis went away while the job was being written: it may have been accepted; retry with an Idempotency-Key so that it runs at most once',
    undefined,
    { 'Retry-After': '1' },
  );
}

/**
 * Submits validated jobs in one MULTI/EXEC: the BullMQ jobs, their tombstones, their
 * list-index entries and their `submitted` events, together or not at all. Every key of
 * a job shares its queue group's hash tag (keyspace.ts), so this holds on a Redis
 * Cluster too. Inside MULTI no worker can see a job before the rest exists either.
 *
 * On a Cluster a batch whose jobs are in different queue groups (QUEUE_GROUPS,
 * QUEUE_SHARDS) is one transaction per group, sent at once: each group's jobs are
 * written whole or not at all, but one group's may be written when another's failed
 * (Redis went away between them); the 503 below says so. On one Redis it stays one.
 *
 * One caveat stays, as with any request over a network: when Redis commits the
 * transaction and the connection drops before the reply, the job exists although
 * the client hears 503; that 503 says so (outcomeUnknown), and an idempotency key
 * makes the retry safe.
 */
export async function submitAtomically(ctx: AppContext, subs: Submission[], ids: string[]): Promise<JobRecord[]> {
  const queues = subs.map((s, i) => {
    const q = ctx.queues.get(ctx.keys.queueOf(s.type, ids[i]));
    if (!q) throw new HttpError(400, 'unknown_type', `no queue for type "${s.type}"`);
    return q;
  });
  // Each queue's connection is ready, so BullMQ has defined its scripts for submitTransaction to copy.
  await Promise.all([...new Set(queues)].map((q) => q.waitUntilReady()));
  defineSubmitExtras(ctx.redis);
  const jobs = subs.map((s, i) => new Job(queues[i], s.type, s.data, bullOptionsOf(s), ids[i]));
  const first = reserveOrder(subs.length);
  const views = subs.map((s, i) => submittedView(ids[i], s, jobs[i].timestamp));

  // The jobs of each transaction: all of them on one Redis, those of one group on a Cluster.
  const byGroup = new Map<QueueGroup, number[]>();
  for (const [i, q] of queues.entries()) {
    const g = ctx.keys.layout.groupOfQueue(q.name);
    const members = byGroup.get(g);
    if (members) members.push(i);
    else byGroup.set(g, [i]);
  }
  const oneTx = !isCluster(ctx.redis);
  const txs: SubmitTransaction[] = [];
  for (const [group, members] of byGroup) {
    const tx = oneTx && txs.length > 0 ? txs[0] : submitTransaction(ctx.redis, ctx.queueRedis);
    if (!(oneTx && txs.length > 0)) txs.push(tx);
    // Each add is queued on the transaction before its promise settles; nothing runs before exec().
    for (const i of members) await jobs[i].addJob(tx as unknown as Parameters<Job['addJob']>[0]);
    // One script call per group: its keys (tombstones, the group's indexes) share the group's slot.
    const submitted = members.map((i) => ({ sub: subs[i], view: views[i], timestamp: jobs[i].timestamp, seq: first.seq + i }));
    submitExtrasWrites(tx, ctx.redis, ctx.keys, ctx.config, group, submitted, first.ms);
  }
  for (const [i, s] of subs.entries()) ctx.ownJobs?.note(ids[i], Boolean(s.options.callbackUrl));
  const results = await Promise.allSettled(txs.map((tx) => tx.exec()));
  try {
    for (const r of results) {
      if (r.status === 'rejected') throw txs.length > 1 && results.some((x) => x.status === 'fulfilled') ? partial() : outcomeUnknown(r.reason);
      const replies = r.value;
      if (!replies) throw new Error('Connection is closed: the submit transaction was discarded');
      for (const [err] of replies) if (err) throw err;
    }
  } catch (err) {
    // Not written, or not surely: the relay asks Redis about these ids as about anyone's.
    ctx.ownJobs?.forget(ids);
    throw err;
  }

  const perType = new Map<string, number>();
  for (const s of subs) perType.set(s.type, (perType.get(s.type) ?? 0) + 1);
  for (const [type, n] of perType) ctx.metrics.jobSubmitted(type, n);
  return views;
}

/** Some groups' transactions were committed and another's was not: the batch is part written. */
function partial(): HttpError {
  return new HttpError(
    503,
    'unavailable',
    'Redis went away while the batch was being written: the jobs of some queue groups were accepted and others may not have been; see GET /jobs before submitting again',
    undefined,
    { 'Retry-After': '1' },
  );
}
