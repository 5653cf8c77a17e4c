import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from './config';
import { throttle } from './throttle';

/**
 * A connection to one Redis or to a Redis Cluster. Both take the same commands; what
 * differs is that, on a Cluster, every multi-key command, script and pipeline must
 * stay within one node (see slot-routing.ts), and keyless commands go to any node.
 */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is: one node's URL, or the configuration, whose REDIS_CLUSTER_NODES
 * (when set) wins over REDIS_URL.
 */
export type RedisTarget = string | Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>;

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

/**
 * Opens a connection for one role: a Cluster when the target names cluster nodes,
 * else one Redis. Whoever calls this closes the connection.
 */
export function createRedis(url: string, role: RedisRole, logger?: RedisLogger, name?: string): Redis;
export function createRedis(target: RedisTarget, role: RedisRole, logger?: RedisLogger, name?: string): RedisClient;
export function createRedis(target: RedisTarget, role: RedisRole, logger?: RedisLogger, name?: string): RedisClient {
  const options: RedisOptions = { ...roleOptions[role], connectionName: name ? `async-jobs:${name}` : undefined };
  const seeds = typeof target === 'string' ? [] : target.REDIS_CLUSTER_NODES;
  const redis: RedisClient =
    seeds.length > 0
      ? createCluster(seeds, options)
      : new Redis(typeof target === 'string' ? target : target.REDIS_URL, { ...options, retryStrategy, lazyConnect: false });
  // ioredis emits an error for every failed reconnect; one line per 5 s is enough to see it.
  const logError = throttle(5000, (err: Error) => logger?.warn({ role, err: err.message }, 'redis connection error'));
  redis.on('error', (err: Error) => {
    if (seeds.length === 0) exitIfNoSuchDatabase(err, typeof target === 'string' ? target : target.REDIS_URL);
    logError(err);
  });
  return redis;
}

/** Redis's answer to SELECT of a database beyond its `databases` setting. */
const NO_SUCH_DATABASE = /DB index is out of range|invalid DB index/i;

/**
 * Stops the process (exit 2) when `err` is Redis refusing the database `url` names. ioredis
 * sends SELECT as it connects and, refused, reports the error and goes on with the
 * connection on database 0: the process would write its jobs among another database's
 * keys and run that database's jobs. ioredis reports the refusal before it sends anything
 * else (it waits for SELECT's reply before the connection is ready), so stopping here, in
 * the listener, stops every connection of the process before it writes. Every listener of
 * a connection to `url` calls this, BullMQ's own (Worker's 'error') included.
 */
export function exitIfNoSuchDatabase(err: Error, url: string): void {
  if (!NO_SUCH_DATABASE.test(err.message)) return;
  let db = '?';
  try {
    db = new URL(url).pathname.slice(1) || '0';
  } catch {}
  process.stderr.write(
    `refusing to run: REDIS_URL names database ${db}, which this Redis does not have (${err.message}); name one below its \`databases\` setting\n`,
  );
  process.exit(2);
}

/**
 * The role's options go to every node connection (`redisOptions`; BullMQ reads
 * `maxRetriesPerRequest: null` there for its blocking connections). The offline queue
 * is also the Cluster's own switch: off, a command fails at once while the cluster is
 * not ready, as a single Redis does for the API. Nodes are not reconnected one by
 * one; the Cluster reconnects as a whole (clusterRetryStrategy) and follows MOVED.
 */
function createCluster(seeds: readonly string[], options: RedisOptions): Cluster {
  const { nodes, auth } = parseClusterSeeds(seeds);
  const clusterOptions: ClusterOptions = {
    redisOptions: { ...options, ...auth },
    enableOfflineQueue: options.enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    lazyConnect: false,
  };
  return new Cluster(nodes, clusterOptions);
}

/**
 * REDIS_CLUSTER_NODES entries as ioredis wants them. Credentials and TLS, when an
 * entry is a URL, apply to every node (ioredis opens nodes it discovers with the
 * same options); the first entry that has them gives them.
 */
export function parseClusterSeeds(seeds: readonly string[]): { nodes: { host: string; port: number }[]; auth: RedisOptions } {
  const auth: RedisOptions = {};
  const nodes = seeds.map((seed) => {
    const url = new URL(/^rediss?:\/\//.test(seed) ? seed : `redis://${seed}`);
    if (url.username && auth.username === undefined) auth.username = decodeURIComponent(url.username);
    if (url.password && auth.password === undefined) auth.password = decodeURIComponent(url.password);
    if (url.protocol === 'rediss:') auth.tls ??= {};
    return { host: url.hostname, port: Number(url.port) };
  });
  return { nodes, auth };
}

/** Where the configuration points, for logs: the redacted URL, or the cluster's seed nodes. */
export function describeRedis(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): string {
  if (config.REDIS_CLUSTER_NODES.length === 0) return redactUrl(config.REDIS_URL);
  const nodes = config.REDIS_CLUSTER_NODES.map((n) => (/^rediss?:\/\//.test(n) ? redactUrl(n) : n));
  return `cluster ${nodes.join(',')}`;
}

/** Closes a connection politely, or drops it when Redis is not there to answer. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    const betweenAttempts = redis.status === 'reconnecting';
    redis.disconnect();
    if (betweenAttempts) settleOfflineCommands(redis);
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

/**
 * Dropped while it waits to reconnect, an ioredis 5 connection neither ends nor settles
 * the commands it queued while Redis was away (no socket is left to close:
 * redis/ioredis#2169), so whatever awaits them (a listener's loop, a shutdown) waits for
 * good. They are rejected here as ioredis rejects them when a connection ends. Its queue
 * is not public API: where it is missing (a Cluster, a later ioredis) this does nothing.
 */
function settleOfflineCommands(redis: RedisClient): void {
  const flush = (redis as unknown as { flushQueue?: (err: Error) => void }).flushQueue;
  if (redis instanceof Redis && typeof flush === 'function') flush.call(redis, new Error('Connection is closed.'));
}
