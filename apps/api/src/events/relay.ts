import { randomUUID } from 'node:crypto';
import {
  closeRedis,
  encodeEvent,
  enqueueCallback,
  isCluster,
  luaScript,
  type Config,
  type JobEvent,
  type Keyspace,
  type Logger,
  type QueueGroup,
  type RedisClient,
  type ResultsStore,
} from '@async-jobs/shared';
import type { Queue } from 'bullmq';
import type { ChainableCommander } from 'ioredis';
import { ENDING_EVENTS, entryTime, lifecycleOf } from './lifecycle';
import { quietDuplicate, readStreams, streamPositions, streamSets, type StreamEntry, type StreamSet } from './streams';

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
 *
 * Queue groups: one lease for all groups (under the default group's tag), and per group
 * the positions of its streams, the callbacks-due set and the list index, under the
 * group's tag. On a Cluster each group is read by a loop of its own on a blocking
 * connection of its own (the first is `blocking`, the others are opened and closed here),
 * so a busy group never waits behind another's block, and each stream is read by one loop.
 */
export function createRelay(deps: RelayDeps): Relay {
  const { keys, types, logger } = deps;
  const tombstoneSeconds = deps.config.RESULT_TTL_SECONDS + deps.config.TOMBSTONE_TTL_SECONDS;
  const redis = deps.redis as LeaseRedis;
  if (typeof redis.ajRelayLease !== 'function') redis.defineCommand('ajRelayLease', { numberOfKeys: 1, lua: luaScript('relay-lease') });
  if (typeof redis.ajIndexAdded !== 'function') redis.defineCommand('ajIndexAdded', { numberOfKeys: 1, lua: luaScript('index-added') });
  const sets = streamSets(deps.blocking, keys, types);
  const connections = sets.map((_, i) => (i === 0 ? deps.blocking : quietDuplicate(deps.blocking)));
  const token = randomUUID();
  // On a Cluster NUMSUB counts one node's subscribers only, so there the relay always publishes.
  const countListeners = !isCluster(deps.redis);
  let closed = false;
  const wakes = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakes.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakes.add(wake);
    });

  const groupOf = (queue: string) => keys.layout.groupOfQueue(queue);
  /** The groups of a set's queues: one on a Cluster, any number on one Redis (one read for all). */
  const groupsIn = (set: StreamSet) => [...new Set(set.queues.map(groupOf))];

  /** A set's saved positions (a queue never relayed before starts at its end, saved at once). */
  async function loadPositions(set: StreamSet): Promise<string[]> {
    const groups = groupsIn(set);
    const pipe = deps.redis.pipeline();
    for (const g of groups) pipe.hgetall(keys.relayPositions(g));
    const saved: Record<string, string> = {};
    for (const [err, h] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      Object.assign(saved, h as Record<string, string>);
    }
    const ends = await streamPositions(deps.redis, set.streams);
    // Its past is not news. That start is saved at once, so a batch that fails after it is read again, not skipped.
    const fresh = set.streams.flatMap((s, i) => (saved[s] === undefined ? [i] : []));
    if (fresh.length > 0) {
      const save = deps.redis.pipeline();
      savePositions(save, set, fresh, ends);
      for (const [err] of (await save.exec()) ?? []) if (err) throw err;
    }
    return set.streams.map((s, i) => saved[s] ?? ends[i]);
  }

  /** Queues on `pipe` the saving of the positions of the streams at `which` (indexes into the set), per group. */
  function savePositions(pipe: ChainableCommander, set: StreamSet, which: number[], positions: string[]): void {
    const byGroup = new Map<QueueGroup, Record<string, string>>();
    for (const i of which) {
      const g = groupOf(set.queues[i]);
      const h = byGroup.get(g) ?? {};
      byGroup.set(g, h);
      h[set.streams[i]] = positions[i];
    }
    for (const [g, h] of byGroup) pipe.hset(keys.relayPositions(g), h);
  }

  async function holdLease(): Promise<boolean> {
    return (await redis.ajRelayLease(keys.relayLease, token, LEASE_MS)) === 1;
  }

  async function relay(set: StreamSet, positions: string[], lastAdded: (string | undefined)[], batch: StreamEntry[]): Promise<void> {
    const added = batch.filter((e) => e.event === 'added' && e.jobId);
    const ending = batch.filter((e) => ENDING_EVENTS.has(e.event) && e.jobId);
    const groups = groupsIn(set);
    const pipe = deps.redis.pipeline();
    if (countListeners) pipe.pubsub('NUMSUB', keys.eventsChannel);
    const addedBy = groups.map((g) => added.filter((e) => groupOf(e.queue) === g));
    const endingBy = groups.map((g) => ending.filter((e) => groupOf(e.queue) === g));
    for (const [k, g] of groups.entries()) {
      if (addedBy[k].length > 0) (pipe as unknown as LeaseRedis).ajIndexAdded(keys.jobIndex(g), g.prefix, keys.typeIndex(g, ''), String(tombstoneSeconds), ...addedBy[k].flatMap((e) => [e.queue, e.type, e.jobId!]));
      if (endingBy[k].length > 0) pipe.zmscore(keys.callbacksDue(g), ...endingBy[k].map((e) => e.jobId!));
    }
    const replies = (await pipe.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    let r = 0;
    const listeners = countListeners ? Number((replies[r++][1] as [string, number])[1]) : 1;
    const foreign = new Set<string>();
    const dueEntries: StreamEntry[] = [];
    for (const k of groups.keys()) {
      if (addedBy[k].length > 0) for (const id of replies[r++][1] as string[]) foreign.add(id);
      if (endingBy[k].length > 0) {
        const due = replies[r++][1] as (string | null)[];
        for (const [i, e] of endingBy[k].entries()) if (due[i] !== null) dueEntries.push(e);
      }
    }

    // Whether a failure was a cancel, why a job was removed, and a retry's error: read from the job.
    const needViews = listeners > 0 ? batch.filter((e) => e.event === 'failed' || e.event === 'removed' || e.event === 'delayed' || (e.event === 'waiting' && e.fields.prev === 'active')) : [];
    const views = await deps.store.readMany(
      needViews.map((e) => e.jobId!),
      needViews.map((e) => e.type),
    );
    const viewOf = new Map(needViews.map((e, i) => [e, views[i]]));

    if (dueEntries.length > 0) await handOverCallbacks(dueEntries);

    const out = deps.redis.pipeline();
    for (const e of batch) {
      const i = set.queues.indexOf(e.queue);
      const afterAdded = lastAdded[i] === e.jobId;
      lastAdded[i] = e.event === 'added' ? e.jobId : undefined;
      const message = listeners > 0 ? messageOf(e, afterAdded, foreign, viewOf.get(e)) : null;
      if (message) out.publish(keys.eventsChannel, encodeEvent(message));
    }
    savePositions(out, set, set.streams.map((_, i) => i), positions);
    await out.exec();
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

  // Resolved once every loop's first lease attempt got an answer from Redis: from then on nothing is missed.
  const firsts: (() => void)[] = [];
  const first = Promise.all(sets.map(() => new Promise<void>((resolve) => firsts.push(resolve)))).then(() => undefined);
  const follow = async (set: StreamSet, conn: RedisClient, firstTried: () => void) => {
    let failures = 0;
    let positions: string[] | null = null;
    /** Per stream: the job whose `added` entry came last, to tell a delayed submit from a delayed retry. */
    const lastAdded: (string | undefined)[] = set.streams.map(() => undefined);
    while (!closed) {
      try {
        const held = await holdLease();
        if (!held) positions = null;
        else if (!positions) positions = await loadPositions(set);
        firstTried();
        if (!held) {
          await pause(RETRY_MS);
          continue;
        }
        const batch = await readStreams(conn, set, positions!);
        if (batch.length > 0 && !closed) await relay(set, positions!, lastAdded, batch);
        failures = 0;
      } catch (err) {
        if (closed) break;
        // The positions were not saved: the same entries come again (a repeat, not a gap).
        positions = null;
        if (++failures === 3) logger.warn({ err: (err as Error).message, group: set.group?.name }, 'event relay failed; retrying');
        await pause(Math.min(200 * failures, 2000));
      }
    }
  };
  const loop = Promise.all(sets.map((set, i) => follow(set, connections[i], firsts[i])));

  let closing: Promise<void> | undefined;
  return {
    ready: () => first,
    close() {
      closing ??= (async () => {
        closed = true;
        for (const f of firsts) f();
        for (const w of [...wakes]) w();
        await Promise.race([loop, new Promise((r) => setTimeout(r, 50))]);
        await Promise.allSettled(connections.slice(1).map((c) => closeRedis(c)));
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
