import { randomUUID } from 'node:crypto';
import { deleteIfEqual } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { scheduleConflict } from './validate-schedule';

/** Long enough for a few BullMQ calls; a process that dies holding it blocks the name this long at most. */
const HOLD_MS = 10000;
/** How long a request waits for another one on the same name before answering 409. */
const WAIT_MS = 5000;

/**
 * Runs `fn` while holding the name's lock, so that two API processes never change one
 * schedule at once. BullMQ's upsert is atomic within a queue, but a name moved to
 * another type touches two queues: under the lock no other request sees or makes the
 * state in between. It holds nothing but a random token; the schedule itself is BullMQ's.
 */
export async function withScheduleLock<T>(ctx: AppContext, name: string, fn: () => Promise<T>): Promise<T> {
  const key = ctx.keys.scheduleLock(name);
  const token = randomUUID();
  const deadline = Date.now() + WAIT_MS;
  while ((await ctx.redis.set(key, token, 'PX', HOLD_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw scheduleConflict(name);
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    return await fn();
  } finally {
    // Compare-and-delete: a lock that lapsed and was taken by another request stays theirs.
    await deleteIfEqual(ctx.redis, key, token).catch(() => undefined);
  }
}
