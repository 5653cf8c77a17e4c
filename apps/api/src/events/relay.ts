import { randomUUID } from 'node:crypto';
import {
  encodeEvent,
  enqueueCallback,
  isCluster,
  luaScript,
  type Config,
  type JobEvent,
  type Keyspace,
  type Logger,
  type RedisClient,
  type ResultsStore,
} from '@async-jobs/shared';
import type { Queue } from 'bullmq';
import { countedAs, ENDING_EVENTS, entryTime, lifecycleOf, type CountedChange } from './lifecycle';
import { readStreams, streamPositions, type StreamEntry } from './streams';

export interface RelayDeps {
  config: Config;
  keys: Keyspace;
  /** Command connection (publishes, reads jobs). Not closed here. */
  redis: RedisClient;
  /** A connection of the relay's own for its blocking reads. Not closed here. */
  blocking: RedisClient;
  store: ResultsStore;
  callbackQueue: Queue;
  types: readonly string[];
  logger: Logger;
  /**
   * Told, once per batch whose positions were saved, what its entries count as (the job
   * counters): only the lease holder relays, so each change is counted by one process once.
   */
  onRelayed?: (changes: readonly RelayedChange[]) => void;
}

export interface RelayedChange {
  type: string;
  change: CountedChange;
}

export interface Relay {
  /** Resolves once a first try for the lease got an answer from Redis (and, if taken, where to start is known and saved). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Another process's lease lapses this long after it stopped renewing (it renews every read, ≤ 1 s). */
const LEASE_MS = 5000;
const RETRY_MS = 1000;

type LeaseRedis = RedisClient & {
  ajRelayLease(key: string, token: string, ms: number): Promise<number>;
  ajIndexAdded(key: string, ...args: string[]): Promise<string[]>;
};

/**
 * Follows every queue's BullMQ event stream and, once for the whole system, does what
 * each lifecycle change calls for beyond waking this process's waiters (stream-reader.ts):
 * publishes it on `jobs:events`, hands a finished job with a callbackUrl to delivery, and
 * lists jobs that another producer added. One API process at a time holds the relay's
 * lease; its stream positions are saved after each batch, so a successor starts where it
 * stopped: after a crash a batch may be repeated (callbacks are deduplicated by event id),
 * never skipped. Publishing is skipped while nobody listens on one Redis (PUBSUB NUMSUB).
 */
export function createRelay(deps: RelayDeps): Relay {
  const { keys, types, logger } = deps;
  const tombstoneSeconds = deps.config.RESULT_TTL_SECONDS + deps.config.TOMBSTONE_TTL_SECONDS;
  const redis = deps.redis as LeaseRedis;
  if (typeof redis.ajRelayLease !== 'function') redis.defineCommand('ajRelayLease', { numberOfKeys: 1, lua: luaScript('relay-lease') });
  if (typeof redis.ajIndexAdded !== 'function') redis.defineCommand('ajIndexAdded', { numberOfKeys: 1, lua: luaScript('index-added') });
  const streams = types.map((t) => keys.events(t));
  const token = randomUUID();
  // On a Cluster NUMSUB counts one node's subscribers only, so there the relay always publishes.
  const countListeners = !isCluster(deps.redis);
  let closed = false;
  let positions: string[] | null = null;
  /** Per stream: the job whose `added` entry came last, to tell a delayed submit from a delayed retry. */
  const lastAdded: (string | undefined)[] = streams.map(() => undefined);
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function takeLease(): Promise<boolean> {
    const held = (await redis.ajRelayLease(keys.relayLease, token, LEASE_MS)) === 1;
    if (!held) positions = null;
    else if (!positions) {
      const saved = await deps.redis.hgetall(keys.relayPositions);
      const ends = await streamPositions(deps.redis, streams);
      // A queue never relayed before starts at its end: its past is not news. That start is
      // saved at once, so a batch that fails after it is read again, not skipped.
      const fresh = Object.fromEntries(streams.filter((s) => saved[s] === undefined).map((s) => [s, ends[streams.indexOf(s)]]));
      if (Object.keys(fresh).length > 0) await deps.redis.hset(keys.relayPositions, fresh);
      positions = streams.map((s) => saved[s] ?? fresh[s]);
    }
    return held;
  }

  async function relay(batch: StreamEntry[]): Promise<void> {
    const added = batch.filter((e) => e.event === 'added' && e.jobId);
    const ending = batch.filter((e) => ENDING_EVENTS.has(e.event) && e.jobId);
    const pipe = deps.redis.pipeline();
    if (countListeners) pipe.pubsub('NUMSUB', keys.eventsChannel);
    if (added.length > 0) (pipe as unknown as LeaseRedis).ajIndexAdded(keys.jobIndex, keys.bullPrefix, keys.typeIndex(''), String(tombstoneSeconds), ...added.flatMap((e) => [e.type, e.jobId!]));
    if (ending.length > 0) pipe.zmscore(keys.callbacksDue, ...ending.map((e) => e.jobId!));
    const replies = (await pipe.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    let r = 0;
    const listeners = countListeners ? Number((replies[r++][1] as [string, number])[1]) : 1;
    const foreign = new Set(added.length > 0 ? (replies[r++][1] as string[]) : []);
    const due = ending.length > 0 ? (replies[r++][1] as (string | null)[]) : [];

    const dueEntries = ending.filter((_, i) => due[i] !== null);
    // Whether a failure was a cancel (counted even with nobody listening), why a job was removed, and a retry's error: read from the job.
    const needViews = batch.filter((e) => e.event === 'failed' || (listeners > 0 && (e.event === 'removed' || e.event === 'delayed' || (e.event === 'waiting' && e.fields.prev === 'active'))));
    const views = await deps.store.readMany(
      needViews.map((e) => e.jobId!),
      needViews.map((e) => e.type),
    );
    const viewOf = new Map(needViews.map((e, i) => [e, views[i]]));

    if (dueEntries.length > 0) await handOverCallbacks(dueEntries);

    const out = deps.redis.pipeline();
    const changes: RelayedChange[] = [];
    for (const e of batch) {
      const i = types.indexOf(e.type);
      const afterAdded = lastAdded[i] === e.jobId;
      lastAdded[i] = e.event === 'added' ? e.jobId : undefined;
      const message = listeners > 0 ? messageOf(e, afterAdded, foreign, viewOf.get(e)) : null;
      if (message) out.publish(keys.eventsChannel, encodeEvent(message));
      const change = countedAs(e, afterAdded, viewOf.get(e)?.state);
      if (change) changes.push({ type: e.type, change });
    }
    out.hset(keys.relayPositions, Object.fromEntries(streams.map((s, i) => [s, positions![i]])));
    await out.exec();
    if (changes.length > 0) deps.onRelayed?.(changes);
  }

  /** Queues the delivery of each finished job that asked for a callback; its URL is in its tombstone. */
  async function handOverCallbacks(entries: StreamEntry[]): Promise<void> {
    const pipe = deps.redis.pipeline();
    for (const e of entries) pipe.hget(keys.tombstone(e.type, e.jobId!), 'u');
    const urls = ((await pipe.exec()) ?? []).map(([, u]) => u as string | null);
    await Promise.all(
      entries.map(async (e, i) => {
        const url = urls[i];
        if (!url) return;
        try {
          await enqueueCallback(deps.callbackQueue, deps.config, { id: e.jobId!, type: e.type }, url, e.id.replace('-', '_'));
        } catch (err) {
          logger.error({ jobId: e.jobId, err: (err as Error).message }, 'could not queue the completion callback');
        }
      }),
    );
  }

  // Resolved by the loop's first lease attempt that Redis answered: from then on nothing is missed.
  let firstTried!: () => void;
  const first = new Promise<void>((resolve) => (firstTried = resolve));
  const loop = (async () => {
    let failures = 0;
    while (!closed) {
      try {
        const held = await takeLease();
        firstTried();
        if (!held) {
          await pause(RETRY_MS);
          continue;
        }
        const batch = await readStreams(deps.blocking, streams, positions!, types);
        if (batch.length > 0 && !closed) await relay(batch);
        failures = 0;
      } catch (err) {
        if (closed) break;
        // The positions were not saved: the same entries come again (a repeat, not a gap).
        positions = null;
        if (++failures === 3) logger.warn({ err: (err as Error).message }, 'event relay failed; retrying');
        await pause(Math.min(200 * failures, 2000));
      }
    }
  })();

  let closing: Promise<void> | undefined;
  return {
    ready: () => first,
    close() {
      closing ??= (async () => {
        closed = true;
        firstTried();
        wake?.();
        await Promise.race([loop, new Promise((r) => setTimeout(r, 50))]);
        // Hand over at once rather than after the lease lapses (only if it is still ours).
        if (deps.redis.status === 'ready') {
          const holder = await deps.redis.get(keys.relayLease).catch(() => null);
          if (holder === token) await deps.redis.del(keys.relayLease).catch(() => undefined);
        }
      })();
      return closing;
    },
  };
}

function messageOf(
  e: StreamEntry,
  afterAdded: boolean,
  foreign: ReadonlySet<string>,
  view: { state: string; error: { name: string; message: string } | null; lastError: { name: string; message: string } | null } | null | undefined,
): JobEvent | null {
  const base = { id: e.jobId!, type: e.type, at: entryTime(e.id) };
  if (e.event === 'added') return foreign.has(e.jobId!) ? { ...base, event: 'submitted', state: 'queued' } : null;
  const change = lifecycleOf(e, afterAdded);
  if (!change) return null;
  const message: JobEvent = { ...base, ...change };
  if (e.event === 'progress') message.progress = parseJson(e.fields.data);
  if (change.event === 'retrying' && view?.lastError) message.error = view.lastError;
  if (e.event === 'failed' || e.event === 'removed') {
    if (view?.state === 'cancelled') {
      message.event = 'cancelled';
      message.state = 'cancelled';
    }
    const error = view?.error ?? (e.fields.failedReason ? { name: 'Error', message: e.fields.failedReason } : undefined);
    if (error) message.error = error;
  }
  return message;
}

function parseJson(raw: string | undefined): unknown {
  try {
    return raw === undefined ? null : JSON.parse(raw);
  } catch {
    return raw;
  }
}
