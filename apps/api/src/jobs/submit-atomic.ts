import { Job } from 'bullmq';
import { HttpError, type JobRecord } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import type { AppContext } from '../deps';
import { isRedisUnavailable } from '../middleware/redis-errors';
import { bullOptionsOf, submittedView } from './job-build';
import { reserveOrder } from './job-index';
import { defineSubmitExtras, submitExtrasWrites } from './submit-extras';
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
 * list-index entries and their `submitted` events, together or not at all. Every key
 * shares BullMQ's hash tag (keyspace.ts), so this holds on a Redis Cluster too.
 * Inside MULTI no worker can see a job before the rest exists either.
 *
 * One caveat stays, as with any request over a network: when Redis commits the
 * transaction and the connection drops before the reply, the job exists although
 * the client hears 503; that 503 says so (outcomeUnknown), and an idempotency key
 * makes the retry safe.
 */
export async function submitAtomically(ctx: AppContext, subs: Submission[], ids: string[]): Promise<JobRecord[]> {
  const queues = subs.map((s) => {
    const q = ctx.queues.get(s.type);
    if (!q) throw new HttpError(400, 'unknown_type', `no queue for type "${s.type}"`);
    return q;
  });
  // BullMQ's wrapper of the API's connection: its transactions know BullMQ's scripts (every
  // queue shares the connection, so one is enough once each has loaded them).
  const clients = await Promise.all([...new Set(queues)].map((q) => q.getBackend().client));
  defineSubmitExtras(ctx.redis);
  const tx = clients[0].multi();
  const jobs = subs.map((s, i) => new Job(queues[i], s.type, s.data, bullOptionsOf(s, ctx.config), ids[i]));
  // Each add is queued on the transaction before its promise settles; nothing runs before exec().
  for (const job of jobs) await job.addJob(tx);

  const views = subs.map((s, i) => submittedView(ids[i], s, jobs[i].timestamp));
  const submitted = subs.map((sub, i) => ({ sub, view: views[i], timestamp: jobs[i].timestamp }));
  submitExtrasWrites(tx as unknown as ChainableCommander, ctx.redis, ctx.keys, ctx.config, submitted, reserveOrder(subs.length));
  const replies = await tx.exec().catch((err: unknown) => {
    throw outcomeUnknown(err);
  });
  if (!replies) throw new Error('Connection is closed: the submit transaction was discarded');
  for (const [err] of replies) if (err) throw err;

  const perType = new Map<string, number>();
  for (const s of subs) perType.set(s.type, (perType.get(s.type) ?? 0) + 1);
  for (const [type, n] of perType) ctx.metrics.jobSubmitted(type, n);
  return views;
}
