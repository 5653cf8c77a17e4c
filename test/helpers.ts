import { randomBytes, randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import { createRelay } from '../apps/api/src/events/relay';
import { createStreamFollowers } from '../apps/api/src/events/stream-followers';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { inject } from 'vitest';
import { spreadOverMasters } from './cluster-masters';
import {
  CALLBACK_QUEUE,
  createLogger,
  createKeyspace,
  createResultsStore,
  jobTypeNames,
  retention,
  execRouted,
  isCluster,
  type LayoutSpec,
  layoutSpecOf,
  loadConfig,
  parseClusterSeeds,
  parseEvent,
  type Config,
  type JobEvent,
  type Keyspace,
  type RedisClient,
  type ResultsStore,
} from '@async-jobs/shared';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * Seed nodes of a Redis Cluster, set by `npm run test:cluster`: the suite then runs
 * against the cluster, and processes get them as REDIS_CLUSTER_NODES.
 */
export const CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER_NODES ?? '';
export const onCluster = CLUSTER_NODES !== '';

/**
 * A plain connection to the Redis the suite runs on: one Redis, or the Cluster under
 * `npm run test:cluster`. Tests open connections only through this (or createRedis with
 * ctx.config()), so that every file runs unchanged against both.
 */
export function testRedis(options: RedisOptions = {}): RedisClient {
  if (!onCluster) return new Redis(REDIS_URL, options);
  return new Cluster(parseClusterSeeds(CLUSTER_NODES.split(',')).nodes, { redisOptions: options });
}

/** Resolves once `redis` is connected (on a Cluster: once it knows its nodes). */
export async function untilReady(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('end', () => reject(new Error('redis connection ended before it was ready')));
  });
}

export interface TestContext {
  namespace: string;
  keys: Keyspace;
  /** The queue layout this context runs with (QUEUE_GROUPS and QUEUE_SHARDS, parsed). */
  layout: LayoutSpec;
  /** Configuration as the processes would load it, with this file's namespace. */
  config(env?: Record<string, string>): Config;
  /** Env for child processes (worker/API started with tsx). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A plain connection for assertions (a Cluster under test:cluster); closed by cleanup(). */
  redis: RedisClient;
  /** Every key of this namespace (ours and BullMQ's). */
  allKeys(): Promise<string[]>;
  /**
   * The keys a request could have written: all but what the processes keep for themselves
   * whatever the traffic (BullMQ's `meta` per queue, the event relay's lease and positions, workers' heartbeats).
   */
  requestKeys(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** QUEUE_GROUPS and QUEUE_SHARDS (docs/scaling-out.md) for a file that needs a layout of its own. */
export interface LayoutEnv {
  QUEUE_GROUPS?: string;
  QUEUE_SHARDS?: string;
}

/**
 * A namespace of its own for one test file, so files can run in parallel against one Redis.
 * The queue layout is the suite's (`QUEUE_GROUPS=... npm run test:cluster`) unless `layoutEnv` gives one.
 */
export function createTestContext(layoutEnv?: LayoutEnv): TestContext {
  // The queue layout the suite runs with (docs/scaling-out.md): `npm run test:cluster:groups`.
  const layout = layoutEnv
    ? { QUEUE_GROUPS: layoutEnv.QUEUE_GROUPS ?? '', QUEUE_SHARDS: layoutEnv.QUEUE_SHARDS ?? '' }
    : { QUEUE_GROUPS: process.env.QUEUE_GROUPS ?? '', QUEUE_SHARDS: process.env.QUEUE_SHARDS ?? '' };
  const spec = layoutSpecOf(layout);
  const namespace = spreadNamespace(spec);
  const keys = createKeyspace(namespace, spec);
  const redis = testRedis({ maxRetriesPerRequest: 1 });
  const baseEnv = { REDIS_URL, REDIS_CLUSTER_NODES: CLUSTER_NODES, KEY_NAMESPACE: namespace, LOG_LEVEL: 'silent', ...layout };
  // A test that names its own REDIS_URL (a dead port, say) means that one Redis, not the cluster.
  const withBase = (extra: Record<string, string>) =>
    'REDIS_URL' in extra && !('REDIS_CLUSTER_NODES' in extra) ? { ...baseEnv, REDIS_CLUSTER_NODES: '', ...extra } : { ...baseEnv, ...extra };
  // On a Cluster every master holds a part of the keys, so each is scanned.
  const scanNode = async (node: Redis, pattern: string) => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    return out;
  };
  const scan = async (pattern: string) => {
    await untilReady(redis);
    const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
    return (await Promise.all(nodes.map((n) => scanNode(n, pattern)))).flat();
  };
  const allKeys = async () => [...(await scan(`${namespace}:*`)), ...(await scan(`{${namespace}:*`))];
  return {
    namespace,
    keys,
    layout: spec,
    redis,
    config: (env = {}) => loadConfig(withBase(env)),
    env: (extra = {}) => ({ ...process.env, ...withBase(extra) }) as Record<string, string>,
    allKeys,
    async requestKeys() {
      const own = new Set([keys.relayLease, ...keys.groups.map((g) => keys.relayPositions(g))]);
      const heartbeat = keys.workerHeartbeat('');
      return (await allKeys()).filter((k) => !k.endsWith(':meta') && !own.has(k) && !k.startsWith(heartbeat));
    },
    async cleanup() {
      const found = await allKeys();
      // One DEL per key: a multi-key DEL must stay within one slot on a Cluster.
      for (let i = 0; i < found.length; i += 1000) {
        await execRouted(
          redis,
          found.slice(i, i + 1000).map((key) => ({ key, queue: (pipe) => void pipe.del(key) })),
        );
      }
      await redis.quit();
    },
  };
}

/**
 * A fresh namespace; on a Cluster, one whose queue groups' hash tags fall on different
 * masters (cluster-masters.ts), so that a grouped run really crosses masters in every file.
 */
function spreadNamespace(spec: LayoutSpec): string {
  const draw = () => `t${randomBytes(4).toString('hex')}`;
  const ranges = onCluster ? inject('clusterMasters') : [];
  if (ranges.length === 0) return draw();
  // Each draw succeeds with a chance of at least 2/9 for three groups on three masters.
  for (let i = 0; i < 1000; i++) {
    const namespace = draw();
    if (spreadOverMasters(createKeyspace(namespace, spec).groups, ranges)) return namespace;
  }
  throw new Error('no namespace spreads the queue groups over the masters in 1000 draws');
}

/**
 * The BullMQ queues the layout implies, sorted: one per job type, or `<type>~1` ... `<type>~N`
 * for a type in N shards, and the callbacks queue (what Bull Board lists).
 */
export function expectedQueueNames(ctx: TestContext): string[] {
  const ofType = (type: string) => {
    const n = ctx.layout.shards[type] ?? 1;
    return n === 1 ? [type] : Array.from({ length: n }, (_, k) => `${type}~${k + 1}`);
  };
  return [CALLBACK_QUEUE, ...jobTypeNames.flatMap(ofType)].sort();
}

/** Counts `store`'s job lookups per job id while `body` runs (the reads a request makes of its job). */
export async function countingLookups(store: ResultsStore, body: (reads: Map<string, number>) => Promise<void>): Promise<void> {
  const lookup = store.lookup;
  const reads = new Map<string, number>();
  store.lookup = (id: string, typeHint?: string) => {
    reads.set(id, (reads.get(id) ?? 0) + 1);
    return lookup(id, typeHint);
  };
  try {
    await body(reads);
  } finally {
    store.lookup = lookup;
  }
}

/** Resolves when `check` returns a truthy value; polls a local condition, never a fixed sleep. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface EnqueueOptions {
  /** Per-attempt timeout in ms (travels in `opts.asyncJobs`, as the API sends it). */
  timeout?: number;
  attempts?: number;
  backoff?: { type: 'fixed' | 'exponential'; delay: number };
  delay?: number;
  jobId?: string;
}

/**
 * Adds a job straight to its BullMQ queue, as any BullMQ producer would (data as it is,
 * our extras in `opts.asyncJobs`), without the API's validation and tombstone. Returns the job id.
 */
export async function enqueue(ctx: TestContext, type: string, input: unknown, opts: EnqueueOptions = {}): Promise<string> {
  const id = opts.jobId ?? randomUUID();
  // The queue the API would have put it in (one shard of a sharded type, chosen by the id).
  const name = ctx.keys.queueOf(type, id);
  const queue = new Queue(name, { connection: ctx.redis, prefix: ctx.keys.prefixOf(name) });
  try {
    await queue.add(type, input, {
      jobId: id,
      attempts: opts.attempts ?? 1,
      backoff: opts.backoff,
      delay: opts.delay,
      ...retention(86400),
      ...(opts.timeout !== undefined ? { asyncJobs: { timeoutMs: opts.timeout } } : {}),
    } as JobsOptions);
    return id;
  } finally {
    await queue.close();
  }
}

export interface EventWatch {
  /** Every event seen on this namespace's events channel, in order. */
  events: JobEvent[];
  of(id: string): JobEvent[];
  /** Resolves with the first event (seen before or later) that matches. */
  next(match: (e: JobEvent) => boolean, timeoutMs?: number): Promise<JobEvent>;
  /** Resolves with the job's terminal event (completed, failed or cancelled). */
  terminal(id: string, timeoutMs?: number): Promise<JobEvent>;
  close(): Promise<void>;
}

/**
 * A listener of the test's own on the events channel, subscribed once this resolves (so
 * that nothing published after it is missed); `heard` holds every message, in order. It
 * starts no relay: something else (an API, or watchEvents) must run one.
 */
export async function listenToEvents(ctx: TestContext): Promise<{ heard: JobEvent[]; close(): Promise<unknown> }> {
  const sub = testRedis({ maxRetriesPerRequest: null });
  const heard: JobEvent[] = [];
  sub.on('message', (_channel: string, raw: string) => {
    const e = parseEvent(raw);
    if (e) heard.push(e);
  });
  await sub.subscribe(ctx.keys.eventsChannel);
  return { heard, close: () => sub.quit().catch(() => sub.disconnect()) };
}

/**
 * Subscribes to the events channel; resolves once the subscription is active. The API
 * relays BullMQ's events there; for tests that run no API, a relay of the test's own runs
 * meanwhile (one holds the lease at a time, so an API's relay and this one never double).
 * `types`: queues to relay besides the built-in ones (test handlers).
 */
export async function watchEvents(ctx: TestContext, types: readonly string[] = []): Promise<EventWatch> {
  const command = testRedis({ maxRetriesPerRequest: 1 });
  const blocking = testRedis({ maxRetriesPerRequest: null });
  const config = ctx.config();
  const callbackQueue = new Queue(CALLBACK_QUEUE, { connection: command, prefix: ctx.keys.prefixOf(CALLBACK_QUEUE) });
  const allTypes = [...new Set([...jobTypeNames, ...types])];
  const store = createResultsStore({ redis: command, keys: ctx.keys, resultTtlSeconds: config.RESULT_TTL_SECONDS, types: allTypes });
  const logger = createLogger('test-relay', 'silent');
  await untilReady(command);
  const followers = createStreamFollowers(blocking, ctx.keys, allTypes, logger);
  const relay = createRelay({ config, keys: ctx.keys, redis: command, followers: followers.all, store, callbackQueue, types: allTypes, logger });
  await relay.ready();
  const { heard: events, close: stopListening } = await listenToEvents(ctx);
  const next = (match: (e: JobEvent) => boolean, timeoutMs = 15000) => waitFor(() => events.find(match), timeoutMs, 10);
  return {
    events,
    of: (id) => events.filter((e) => e.id === id),
    next,
    terminal: (id, timeoutMs) =>
      next((e) => e.id === id && ['completed', 'failed', 'cancelled'].includes(e.event), timeoutMs).catch((err: Error) => {
        const seen = events.filter((e) => e.id === id).map((e) => e.event);
        throw new Error(`no terminal event for ${id} (${err.message}); saw ${JSON.stringify(seen)}`);
      }),
    async close() {
      await relay.close();
      await followers.close();
      await callbackQueue.close();
      blocking.disconnect();
      await stopListening();
      await command.quit().catch(() => command.disconnect());
    },
  };
}
