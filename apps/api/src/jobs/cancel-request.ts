import { encodeControl } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { cancelUnstarted } from './cancel-unstarted';

type Deps = Pick<AppContext, 'redis' | 'keys' | 'config'>;

/** The tombstone field that says a cancel was asked for while a worker held the job: when, ms. */
const REQUESTED = 'cr';

/**
 * Notes in the job's tombstone (made for a job another producer added) that a cancel was
 * asked for while a worker held it. The control message that stops the attempt reaches
 * only workers listening at that moment; should the attempt fail and go back for a retry
 * instead, the relay reads this note and cancels the job there (cancelBeforeRetries).
 */
export async function noteCancelRequested(deps: Deps, type: string, id: string): Promise<void> {
  const tomb = deps.keys.tombstone(type, id);
  const replies = await deps.redis
    .multi()
    .hset(tomb, REQUESTED, String(Date.now()))
    .expire(tomb, deps.config.RESULT_TTL_SECONDS + deps.config.TOMBSTONE_TTL_SECONDS)
    .exec();
  const failed = replies?.find(([err]) => err);
  if (!replies || failed) throw failed?.[0] ?? new Error('the cancel note was not written');
}

/**
 * For jobs that just went back for another attempt (a failed attempt, a stalled one): those
 * with a cancel asked for while they ran are cancelled now, as unstarted jobs are, or, if a
 * worker took one again meanwhile, on that worker. Throws when Redis could not be asked.
 */
export async function cancelBeforeRetries(deps: Deps, jobs: readonly { type: string; id: string }[]): Promise<void> {
  const pipe = deps.redis.pipeline();
  for (const j of jobs) pipe.hget(deps.keys.tombstone(j.type, j.id), REQUESTED);
  const replies = (await pipe.exec()) ?? [];
  const asked = jobs.filter((_, i) => {
    const [err, at] = replies[i] ?? [new Error('no reply')];
    if (err) throw err;
    return at !== null;
  });
  for (const j of asked) {
    if ((await cancelUnstarted(deps, j.type, j.id)) === 'running')
      await deps.redis.publish(deps.keys.controlChannel, encodeControl({ action: 'cancel', id: j.id, type: j.type }));
  }
}
