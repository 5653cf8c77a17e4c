import { CANCEL_REQUESTED_FIELD as REQUESTED, encodeControl } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { execOrThrow } from '../redis-exec';
import { cancelUnstarted } from './cancel-unstarted';

type Deps = Pick<AppContext, 'redis' | 'keys' | 'config'>;

/**
 * Notes in the job's tombstone (made for a job another producer added) that a cancel was
 * asked for while a worker held it. The control message that stops the attempt reaches
 * only workers listening at that moment; should the attempt fail and go back for a retry
 * instead, the relay reads this note and cancels the job there (cancelBeforeRetries), and
 * one of our workers that takes the retry first cancels it as it starts (process-job.ts).
 */
export async function noteCancelRequested(deps: Deps, type: string, id: string): Promise<void> {
  const tomb = deps.keys.tombstone(type, id);
  await execOrThrow(
    deps.redis
      .multi()
      .hset(tomb, REQUESTED, String(Date.now()))
      .expire(tomb, deps.config.RESULT_TTL_SECONDS + deps.config.TOMBSTONE_TTL_SECONDS),
  );
}

/**
 * For jobs that just went back for another attempt (a failed attempt, a stalled one): those
 * with a cancel asked for while they ran are cancelled now, as unstarted jobs are, or, if a
 * worker took one again meanwhile, on that worker. Throws when Redis could not be asked.
 */
export async function cancelBeforeRetries(deps: Deps, jobs: readonly { type: string; id: string }[]): Promise<void> {
  const pipe = deps.redis.pipeline();
  for (const j of jobs) pipe.hget(deps.keys.tombstone(j.type, j.id), REQUESTED);
  const notes = await execOrThrow(pipe);
  const asked = jobs.filter((_, i) => notes[i] !== null);
  await Promise.all(
    asked.map(async (j) => {
      if ((await cancelUnstarted(deps, j.type, j.id)) === 'running')
        await deps.redis.publish(deps.keys.controlChannel, encodeControl({ action: 'cancel', id: j.id, type: j.type }));
    }),
  );
}

/**
 * For jobs an operator retried after they ended (Bull Board, POST /jobs/:id/retry): a cancel
 * asked for during an earlier run is forgotten, so that the new run's retries are not
 * cancelled for it. Throws when Redis could not be asked.
 */
export async function forgetCancelRequests(deps: Deps, jobs: readonly { type: string; id: string }[]): Promise<void> {
  const pipe = deps.redis.pipeline();
  for (const j of jobs) pipe.hdel(deps.keys.tombstone(j.type, j.id), REQUESTED);
  await execOrThrow(pipe);
}
