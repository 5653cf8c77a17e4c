import { HttpError } from '@async-jobs/shared';

const REDIS_DOWN =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Command timed out|Reached the max retries|max retries per request|Connection timeout|Socket closed|Cluster isn't ready|CLUSTERDOWN|TRYAGAIN|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available/i;

/**
 * A Cluster moving a slot (a master lost, its replica taking over): ioredis follows these
 * redirections for single commands, but a pipeline or transaction can meet one as its reply.
 */
const SLOT_MOVING = /^(MOVED|ASK) \d+ /;

/** True for the errors ioredis and BullMQ raise when Redis is down or unreachable. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError' || REDIS_DOWN.test(err.message) || SLOT_MOVING.test(err.message)) return true;
  // A transaction Redis discarded because a command of it was refused as it was queued: unavailable
  // when that refusal was (a Cluster down), a bug of ours when it was not.
  const previous = (err as { previousErrors?: unknown[] }).previousErrors;
  return /^EXECABORT/.test(err.message) && Array.isArray(previous) && previous.length > 0 && previous.every(isRedisUnavailable);
}

/** True for a Redis failure, raw or already answered as our 503 `unavailable`. */
export function isUnavailable(err: unknown): boolean {
  return isRedisUnavailable(err) || (err instanceof HttpError && err.status === 503);
}
