import { randomUUID } from 'node:crypto';
import { HttpError, isCluster, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { assertRedisReady } from '../middleware/redis-errors';
import { bullOptionsOf, payloadOf, recordOf, submittedWrite } from './job-build';
import { indexHorizonMs, indexWrites, reserveOrder } from './job-index';
import { submitAtomically } from './submit-atomic';
import type { Submission } from './validate-submission';

/**
 * Submits already-validated jobs with a fixed number of round trips whatever their
 * count: one `addBulk` per job type (each atomic in BullMQ), then every record and
 * index entry in one pipeline (one per node, in parallel, on a Redis Cluster). As for
 * one job, enqueue comes first so that Redis being down leaves no record behind.
 * Records come back in input order.
 */
export async function submitBatch(ctx: AppContext, subs: Submission[]): Promise<JobRecord[]> {
  const ids = subs.map(() => randomUUID());
  const byType = new Map<string, number[]>();
  for (const [i, s] of subs.entries()) {
    if (!ctx.queues.has(s.type)) throw new HttpError(400, 'unknown_type', `no queue for type "${s.type}"`);
    let list = byType.get(s.type);
    if (!list) byType.set(s.type, (list = []));
    list.push(i);
  }
  assertRedisReady(ctx.redis);
  // One Redis: everything in one transaction. A Cluster: the steps below.
  if (!isCluster(ctx.redis)) return submitAtomically(ctx, subs, ids);

  const groups = [...byType];
  const added = await Promise.allSettled(
    groups.map(([type, idx]) =>
      ctx.queues.get(type)!.addBulk(idx.map((i) => ({ name: type, data: payloadOf(subs[i]), opts: bullOptionsOf(subs[i], ids[i]) }))),
    ),
  );
  const failed = added.find((r) => r.status === 'rejected');
  if (failed) {
    // Another type's jobs may be in already; take them out (best effort) so a rejected
    // batch leaves nothing behind. A worker could have started one meanwhile: it then
    // runs without a record until it writes one itself.
    await Promise.allSettled(
      groups.flatMap(([type, idx], g) =>
        added[g].status === 'fulfilled' ? idx.map((i) => ctx.queues.get(type)!.remove(ids[i])) : [],
      ),
    );
    throw failed.reason;
  }

  // BullMQ's own timestamps, which the worker also records: submittedAt never shifts between writes.
  const stamps = new Map<string, number>();
  for (const r of added) if (r.status === 'fulfilled') for (const job of r.value) stamps.set(job.id!, job.timestamp);
  const writes = subs.map((s, i) => submittedWrite(ids[i], s, new Date(stamps.get(ids[i]) ?? Date.now())));
  const first = reserveOrder(subs.length);
  const entries = subs.map((s, i) => ({ id: ids[i], type: s.type, ms: first.ms, seq: first.seq + i }));
  const horizon = indexHorizonMs(ctx.config.RESULT_TTL_SECONDS);
  await ctx.store.applyMany(writes, indexWrites(ctx.keys, entries, horizon));
  for (const [type, idx] of groups) ctx.metrics.jobSubmitted(type, idx.length);
  return writes.map(recordOf);
}
