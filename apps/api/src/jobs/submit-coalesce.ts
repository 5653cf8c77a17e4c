import type { JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { submitAtomically } from './submit-atomic';
import type { Submission } from './validate-submission';

interface Pending {
  s: Submission;
  id: string;
  resolve(record: JobRecord): void;
  reject(err: unknown): void;
}

/** More than this many waiting submits go out at once rather than wait for the turn to end. */
const MAX_BATCH = 500;
const batches = new WeakMap<AppContext, Pending[]>();

/**
 * POST /jobs on one Redis: the submits that arrive in the same turn of the event loop
 * share one transaction (submit-atomic.ts) instead of one each. Under load that is one
 * MULTI/EXEC, one write and one reply for many requests, for Redis and for this process
 * (building a transaction on BullMQ's connection is costly: it copies every script);
 * alone, a submit waits only for the end of the current turn. Each request gets its own
 * record; a transaction that fails fails each request in it, with the same error.
 */
export function submitCoalesced(ctx: AppContext, s: Submission, id: string): Promise<JobRecord> {
  return new Promise((resolve, reject) => {
    let batch = batches.get(ctx);
    if (!batch) {
      const fresh: Pending[] = [];
      batches.set(ctx, fresh);
      setImmediate(() => void flush(ctx, fresh));
      batch = fresh;
    }
    batch.push({ s, id, resolve, reject });
    if (batch.length >= MAX_BATCH) void flush(ctx, batch);
  });
}

async function flush(ctx: AppContext, batch: Pending[]): Promise<void> {
  if (batches.get(ctx) !== batch) return;
  batches.delete(ctx);
  try {
    const records = await submitAtomically(
      ctx,
      batch.map((p) => p.s),
      batch.map((p) => p.id),
    );
    for (const [i, p] of batch.entries()) p.resolve(records[i]);
  } catch (err) {
    for (const p of batch) p.reject(err);
  }
}
