import { defineScript, type RedisClient } from '@async-jobs/shared';
import type { AppContext } from '../deps';

/** What cancel-unstarted.lua found: see its header. */
export type UnstartedCancel = 'removed' | 'running' | 'gone' | 'finished' | 'scheduled';

const OUTCOMES: Record<number, UnstartedCancel> = { 1: 'removed', 0: 'running', [-1]: 'gone', [-2]: 'finished', [-8]: 'scheduled' };

type ScriptRedis = RedisClient & { ajCancelUnstarted(jobKey: string, metaKey: string, ...argv: string[]): Promise<number> };

/**
 * Removes job `id` of `type` (and its children that have not started) only if no worker
 * has taken it and it has not finished, in one script: a job that starts or ends while
 * the cancel is on its way is never removed and then read `cancelled`.
 */
export async function cancelUnstarted(ctx: Pick<AppContext, 'redis' | 'keys' | 'config'>, type: string, id: string): Promise<UnstartedCancel> {
  const redis = ctx.redis as ScriptRedis;
  defineScript(redis, 'ajCancelUnstarted', 'cancel-unstarted', 2);
  // A sharded type: the job's own shard (queue-layout.ts).
  const queue = ctx.keys.queueOf(type, id);
  const queuePrefix = `${ctx.keys.prefixOf(queue)}:${queue}:`;
  // A job another producer added has no tombstone yet: it gets one that expires like ours.
  const ttl = ctx.config.RESULT_TTL_SECONDS + ctx.config.TOMBSTONE_TTL_SECONDS;
  const reply = await redis.ajCancelUnstarted(`${queuePrefix}${id}`, `${queuePrefix}meta`, queuePrefix, id, String(Date.now()), String(ttl));
  const outcome = OUTCOMES[Number(reply)];
  if (!outcome) throw new Error(`cancel-unstarted.lua answered ${String(reply)}`);
  return outcome;
}
