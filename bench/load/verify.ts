import { createKeyspace, describeRedis, isTerminal, parseClusterSeeds, type JobState, type RedisTarget } from '@async-jobs/shared';
import { Cluster, Redis } from 'ioredis';
import type { LoadArgs } from './args';

export interface JobCheck {
  id: string;
  seq: number;
  /** Last state seen; `unknown` when the API never answered for it, `gone` when it answered 404 or 410. */
  state: JobState | 'unknown' | 'gone';
  /** The echo came back with another job's data. */
  mismatch?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Follows one job until it is terminal or the deadline passes. Asks with `?wait=`
 * so a long-polling API answers once, at the end; an API that answers 202 at once
 * is asked again after its Retry-After.
 */
async function followJob(args: LoadArgs, id: string, seq: number, deadline: number): Promise<JobCheck> {
  const headers: Record<string, string> = args.token ? { authorization: `Bearer ${args.token}` } : {};
  let state: JobCheck['state'] = 'unknown';
  while (Date.now() < deadline) {
    const wait = Math.max(0, Math.min(10, Math.floor((deadline - Date.now()) / 1000)));
    const started = Date.now();
    try {
      const res = await fetch(new URL(`/jobs/${encodeURIComponent(id)}/result?wait=${wait}`, args.url), {
        headers,
        signal: AbortSignal.timeout(wait * 1000 + 5000),
      });
      const body = (await res.json().catch(() => null)) as { state?: JobState; result?: { seq?: unknown } } | null;
      // The job is not there (a Redis that lost its data, say): asking again until the deadline would not bring it back.
      if (res.status === 404 || res.status === 410) return { id, seq, state: 'gone' };
      if (body?.state) state = body.state;
      if (res.status === 200 && body?.state && isTerminal(body.state)) {
        return { id, seq, state: body.state, mismatch: body.state === 'completed' && body.result?.seq !== seq };
      }
      const retryAfter = Number(res.headers.get('retry-after')) || 1;
      await sleep(Math.max(0, Math.min(retryAfter * 1000 - (Date.now() - started), deadline - Date.now())));
    } catch {
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
  }
  return { id, seq, state };
}

/** Every accepted job, a few at a time so the check itself is not a second load test. */
export async function followJobs(args: LoadArgs, jobs: Map<string, number>, parallel = 20): Promise<JobCheck[]> {
  const deadline = Date.now() + args.verifyTimeoutS * 1000;
  const todo = [...jobs];
  const out: JobCheck[] = [];
  await Promise.all(
    Array.from({ length: Math.min(parallel, todo.length) }, async () => {
      for (let next = todo.shift(); next; next = todo.shift()) out.push(await followJob(args, next[0], next[1], deadline));
    }),
  );
  return out;
}

export interface RedisCheck {
  list: string;
  /** Elements still on the list at the end; null when Redis could not be asked. */
  left: number | null;
  channel: string;
  subscribers: number | null;
  error?: string;
}

/** Waits for the list listeners to drain the seed list (LLEN 0), and counts who listens on the channel. */
export async function checkRedis(args: LoadArgs): Promise<RedisCheck> {
  const keys = createKeyspace(args.namespace);
  const out: RedisCheck = { list: keys.prodconsList, left: null, channel: keys.pubsubChannel, subscribers: null };
  const redis = connectionFor(args.redis);
  // ioredis rejects with "Connection is closed." once it gives up; the reason is in the error it emitted before.
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err));
  try {
    await redis.connect();
    const deadline = Date.now() + args.verifyTimeoutS * 1000;
    for (;;) {
      out.left = await redis.llen(keys.prodconsList);
      if (out.left === 0 || Date.now() >= deadline) break;
      await sleep(100);
    }
    // On a Cluster NUMSUB counts one node's subscribers: every master's, summed.
    const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
    const counts = await Promise.all(nodes.map((n) => n.pubsub('NUMSUB', keys.pubsubChannel) as Promise<[string, number]>));
    out.subscribers = counts.reduce((sum, [, n]) => sum + Number(n), 0);
  } catch (err) {
    out.error = `${where(args.redis)}: ${(cause ?? (err as Error)).message}`;
  } finally {
    redis.disconnect();
  }
  return out;
}

/** One try, no reconnecting: a Redis that is not there is reported, not waited for. */
function connectionFor(target: RedisTarget): Redis | Cluster {
  const once = { maxRetriesPerRequest: 1, connectTimeout: 3000 };
  if (typeof target !== 'string' && target.REDIS_CLUSTER_NODES.length > 0) {
    const { nodes, auth } = parseClusterSeeds(target.REDIS_CLUSTER_NODES);
    return new Cluster(nodes, { lazyConnect: true, redisOptions: { ...once, ...auth }, clusterRetryStrategy: () => null });
  }
  return new Redis(typeof target === 'string' ? target : target.REDIS_URL, { ...once, lazyConnect: true, retryStrategy: () => null });
}

/** Where `target` is, for messages: its URL without a password, or the cluster's seeds. */
const where = (target: RedisTarget) => describeRedis(typeof target === 'string' ? { REDIS_URL: target, REDIS_CLUSTER_NODES: [] } : target);
