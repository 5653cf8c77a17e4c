import { Job, type JobsOptions } from 'bullmq';
import { HttpError, type JobPayload, type JobRecord } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import type { AppContext } from '../deps';
import { isRedisUnavailable } from '../middleware/redis-errors';
import { bullOptionsOf, payloadOf, recordOf, submittedWrite } from './job-build';
import { indexHorizonMs, indexWrites, reserveOrder } from './job-index';
import type { Submission } from './validate-submission';

/** ioredis refused to send: nothing reached Redis. */
const NOT_SENT = /Stream isn't writeable|enableOfflineQueue/;

/**
 * The connection dropped after the transaction was sent: Redis may have committed it
 * (it stopped before its reply went out), so "nothing was written" would be untrue.
 */
function outcomeUnknown(err: unknown): unknown {
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
 * Submits validated jobs on one Redis in a single MULTI/EXEC: the BullMQ jobs, their
 * "submitted" records and their index entries are written together or not at all.
 *
 * Written in two steps (enqueue, then record), a Redis that stops between them leaves
 * a job that runs although its client was answered 503 "nothing was written", and
 * whose "submitted" event never happened; the Redis-restart fault test caught that.
 * Inside MULTI no worker can see the job before its record exists either.
 *
 * Only on one Redis: on a Cluster the BullMQ keys and the records live in different
 * slots, which no transaction spans (submit.ts then enqueues first, as before).
 * One caveat stays, as with any request over a network: when Redis commits the
 * transaction and the connection drops before the reply, the job exists although
 * the client hears 503; that 503 says so (outcomeUnknown), and an idempotency key
 * makes the retry safe.
 */
export async function submitAtomically(ctx: AppContext, subs: Submission[], ids: string[]): Promise<JobRecord[]> {
  const queues = subs.map((s) => ctx.queues.get(s.type)!);
  // BullMQ's wrapper of the API's connection: its transactions know BullMQ's scripts (every
  // queue shares the connection, so one is enough once each has loaded them).
  const clients = await Promise.all([...new Set(queues)].map((q) => q.getBackend().client));
  const tx = clients[0].multi();
  const jobs = subs.map((s, i) => {
    const opts: JobsOptions = bullOptionsOf(s, ids[i]);
    return new Job<JobPayload, unknown, string>(queues[i], s.type, payloadOf(s), opts, ids[i]);
  });
  // Each add is queued on the transaction before its promise settles; nothing runs before exec().
  for (const job of jobs) await job.addJob(tx);

  // BullMQ's own timestamps, which the worker also records: submittedAt never shifts between writes.
  const writes = subs.map((s, i) => submittedWrite(ids[i], s, new Date(jobs[i].timestamp)));
  const first = reserveOrder(subs.length);
  const entries = subs.map((s, i) => ({ id: ids[i], type: s.type, ms: first.ms, seq: first.seq + i }));
  const horizon = indexHorizonMs(ctx.config.RESULT_TTL_SECONDS);
  for (const c of [...ctx.store.upsertCommands(writes), ...indexWrites(ctx.keys, entries, horizon)]) {
    c.queue(tx as unknown as ChainableCommander);
  }
  const replies = await tx.exec().catch((err: unknown) => {
    throw outcomeUnknown(err);
  });
  if (!replies) throw new Error('Connection is closed: the submit transaction was discarded');
  for (const [err] of replies) if (err) throw err;

  const perType = new Map<string, number>();
  for (const s of subs) perType.set(s.type, (perType.get(s.type) ?? 0) + 1);
  for (const [type, n] of perType) ctx.metrics.jobSubmitted(type, n);
  return writes.map(recordOf);
}
