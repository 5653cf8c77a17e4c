import { Redis, type RedisOptions } from 'ioredis';
import { throttle } from './throttle';

/**
 * - `command`: the API's connection. Fails fast (no offline queue, one retry) so a
 *   request answers 503 quickly instead of waiting for Redis to come back.
 * - `blocking`: BullMQ workers and anything that must wait for Redis rather than fail;
 *   BullMQ requires `maxRetriesPerRequest: null` here.
 * - `subscriber`: pub/sub; also retries forever and re-subscribes on reconnect.
 */
export type RedisRole = 'command' | 'blocking' | 'subscriber';

export interface RedisLogger {
  warn(obj: object, msg: string): void;
}

const roleOptions: Record<RedisRole, RedisOptions> = {
  command: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 3000 },
  blocking: { maxRetriesPerRequest: null, enableOfflineQueue: true, connectTimeout: 5000 },
  subscriber: { maxRetriesPerRequest: null, enableOfflineQueue: true, connectTimeout: 5000 },
};

/** Reconnect forever, backing off to at most 2 s, so a restarted Redis is picked up quickly. */
const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/** Opens a connection for one role. Whoever calls this closes the connection. */
export function createRedis(url: string, role: RedisRole, logger?: RedisLogger, name?: string): Redis {
  const redis = new Redis(url, {
    ...roleOptions[role],
    retryStrategy,
    connectionName: name ? `async-jobs:${name}` : undefined,
    lazyConnect: false,
  });
  // ioredis emits an error for every failed reconnect; one line per 5 s is enough to see it.
  redis.on('error', throttle(5000, (err: Error) => logger?.warn({ role, err: err.message }, 'redis connection error')));
  return redis;
}

/** Closes a connection politely, or drops it when Redis is not there to answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/** The URL with its password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
