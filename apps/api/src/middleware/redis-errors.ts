import { HttpError, unavailable, type RedisClient } from '@async-jobs/shared';

const REDIS_DOWN =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Command timed out|Reached the max retries|max retries per request|Connection timeout|Socket closed|Cluster isn't ready|CLUSTERDOWN|Failed to refresh slots cache|None of startup nodes is available/i;

/** True for the errors ioredis and BullMQ raise when Redis is down or unreachable. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || REDIS_DOWN.test(err.message);
}

/** True for a Redis failure, raw or already answered as our 503 `unavailable`. */
export function isUnavailable(err: unknown): boolean {
  return isRedisUnavailable(err) || (err instanceof HttpError && err.status === 503);
}

/**
 * Refuses at once, before writing anything, when any of the connections is not up. Name
 * ctx.queueRedis wherever a request goes through BullMQ's queues: a Queue whose connection
 * has not been ready since it was made waits for it without end (BullMQ awaits 'ready'
 * before each command), where our own commands fail at once (no offline queue).
 */
export function assertRedisReady(...connections: RedisClient[]): void {
  for (const redis of connections) if (redis.status !== 'ready') throw unavailable();
}
