import { randomUUID } from 'node:crypto';
import { deleteIfEqual, isCluster, defineScript, type Config, type Keyspace, type Logger, type RedisClient, type ResultsStore } from '@async-jobs/shared';
import type { Queue } from 'bullmq';
import { indexHorizonMs } from '../jobs/job-index';
import { execOrThrow } from '../redis-exec';
import { createHousekeeping } from './housekeeping';
import type { CountedChange } from './lifecycle';
import type { OwnJobs } from './own-jobs';
import { batchRelay } from './relay-batch';
import { callbackHandover } from './relay-callbacks';
import { savePositions, unsentPositions } from './relay-positions';
import { mergeProbes, probeAnswer, queueProbe, type ProbeAnswer } from './relay-probe';
import type { StreamConsumer } from './stream-consumer';
import type { StreamFollower } from './stream-follower';
import { streamPositions, type StreamEntry } from './streams';
import { settleWithin } from './settle-within';
import { wakeableSleep } from './wakeable-sleep';

export interface RelayDeps {
  config: Config;
  keys: Keyspace;
  /** Command connection (publishes, reads jobs). Not closed here. */
  redis: RedisClient;
  /** The process's stream followers, one per group on a Cluster (shared with the waiters' notifier). Not closed here. */
  followers: readonly StreamFollower[];
  store: ResultsStore;
  callbackQueue: Queue;
  types: readonly string[];
  logger: Logger;
  /** Jobs submitted by this process: nothing to ask Redis about them (own-jobs.ts). */
  ownJobs?: OwnJobs;
  /**
   * Told, once per batch it handled, what its entries count as (the job
   * counters): only the lease holder relays, so each change is counted by one process once.
   */
  onRelayed?: (changes: readonly RelayedChange[]) => void;
  /** Told of jobs whose attempt ended and that went back for another (cancel-request.ts); a rejection fails the batch. */
  onRetries?: (jobs: readonly { type: string; id: string }[]) => Promise<void>;
  /** Told of ended jobs that an operator retried (cancel-request.ts); a rejection fails the batch. */
  onRetriedByHand?: (jobs: readonly { type: string; id: string }[]) => Promise<void>;
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

/** Another process's lease lapses this long after it stopped renewing (it renews every RENEW_MS). */
const LEASE_MS = 5000;
const RENEW_MS = 1000;
/** Entries waiting for the relay past which the follower waits for it before reading more. */
const MAX_PENDING = 20_000;

type LeaseRedis = RedisClient & {
  ajRelayLease(key: string, token: string, ms: number): Promise<number>;
};

/**
 * Follows every queue's BullMQ event stream (as one consumer of the process's stream
 * follower, beside the waiters' notifier: each entry is read once for both) and, once for
 * the whole system, does what each lifecycle change calls for beyond waking waiters:
 * publishes it on `jobs:events`, hands a finished job with a callbackUrl to delivery, and
 * lists jobs that another producer added. One API process at a time holds the relay's
 * lease (renewed every second) and only it reads for the relay. Entries are handled in
 * batches, one `relay()` call each (what came while the previous batch was handled); the
 * positions after a batch are saved once it is handled: with its publishes, else with the
 * next batch's first writes or the lease's next renewal, so a successor starts where it
 * stopped: after a crash or a failed batch a batch may be repeated (callbacks are
 * deduplicated by event id), never skipped.
 * Publishing is skipped while nobody listens on one Redis (PUBSUB NUMSUB).
 *
 * Queue groups: one lease for all groups (under the default group's tag), and per group
 * the positions of its streams, the callbacks-due set and the list index, under the
 * group's tag. The relay is a consumer of each follower (one per group on a Cluster), each
 * with batches and positions of its own, so a busy group never waits behind another.
 */
export function createRelay(deps: RelayDeps): Relay {
  const { keys, logger } = deps;
  const tombstoneSeconds = deps.config.RESULT_TTL_SECONDS + deps.config.TOMBSTONE_TTL_SECONDS;
  const redis = deps.redis as LeaseRedis;
  defineScript(redis, 'ajRelayLease', 'relay-lease', 1);
  const { followers } = deps;
  const token = randomUUID();
  // On a Cluster NUMSUB counts one node's subscribers only, so there the relay always publishes.
  const countListeners = !isCluster(deps.redis);
  let closed = false;
  const { sleep: pause, wake } = wakeableSleep();

  const groupOf = (queue: string) => keys.layout.groupOfQueue(queue);
  const callbacks = callbackHandover(deps, () => closed);

  /** The relay's consumer of one follower: its streams' batches, positions and failures. */
  function lane(follower: StreamFollower) {
    const { set, streams } = follower;
    /** The groups of the lane's queues: one on a Cluster, any number on one Redis (one read for all). */
    const groups = [...new Set(set.queues.map(groupOf))];
    /** While the lease is ours: the positions after the last batch handled, where this relay goes on from. */
    let handled: string[] | null = null;
    const unsaved = unsentPositions(keys, set);
    /** Bumped whenever the relay stops or moves back: entries read before then are dropped, not handled. */
    let epoch = 0;
    /** Entries taken while a batch was being handled: handled together next, as one batch. */
    let pending: StreamEntry[] = [];
    let pendingAfter: string[] = [];
    let pendingEpoch = 0;
    /** What the probes behind the reads of the pending entries said (null: unknown, ask). */
    let pendingProbe: ProbeAnswer | null = null;
    /** What the newest probe said: with nobody listening and no callback due, news can wait a little. */
    let latestProbe: ProbeAnswer | null = null;
    let busy: Promise<void> | null = null;
    const sweeper = callbacks.sweeper(groups);
    const relay = batchRelay({
      deps,
      set,
      groups,
      countListeners,
      tombstoneSeconds,
      indexHorizonMs: indexHorizonMs(deps.config.RESULT_TTL_SECONDS),
      handOver: callbacks.handOver,
      restoreDue: callbacks.restoreDue,
      unsaved,
    });
    let failures = 0;

    // The follower hands over what lies after `positions` (null: not relaying now). What comes
    // while a batch is handled waits and is handled with whatever else came meanwhile, so under
    // load the relay's round trips are per many entries, not per read.
    const consumer: StreamConsumer = {
      positions: null,
      probe: (pipe) => queueProbe(pipe, keys, groups, countListeners),
      // Someone listens, a callback is due, or that is not known: a few milliseconds' wait gathers more news per read.
      pace: () => (!latestProbe || latestProbe.callbacksDue || latestProbe.listeners !== 0 ? 'soon' : 'calm'),
      missed(gaps) {
        // Their jobs:events messages and counts are lost (the follower logged it); their callbacks need not
        // be. Swept even if this relay stops meanwhile: its successor resumes past the gap, and a callback
        // handed over twice is delivered once (its delivery job's id names the ending).
        sweeper.missed(gaps);
      },
      take(batch, probed) {
        if (pendingEpoch !== epoch) pending = [];
        const answer = probeAnswer(probed, countListeners);
        latestProbe = answer;
        pendingProbe = pending.length > 0 ? mergeProbes(pendingProbe, answer) : answer;
        pending = pending.length > 0 ? pending.concat(batch) : batch;
        pendingAfter = consumer.positions!.slice();
        pendingEpoch = epoch;
        // After this turn: the reads of the waiters these entries woke go to Redis first, the relay's writes after them.
        busy ??= new Promise<void>((resolve) => setImmediate(resolve)).then(handlePending);
        // A relay far behind slows the reads rather than piling entries up in memory.
        return pending.length >= MAX_PENDING ? busy : undefined;
      },
    };
    follower.add(consumer);

    const follow = (from: string[]) => {
      epoch++;
      consumer.positions = from.slice();
      follower.kick();
    };
    const stop = () => {
      epoch++;
      handled = null;
      unsaved.drop();
      consumer.positions = null;
    };

    async function handlePending(): Promise<void> {
      while (pending.length > 0 && pendingEpoch === epoch && !closed) {
        const batch = pending;
        const probe = pendingProbe;
        pending = [];
        pendingProbe = null;
        await handle(batch, pendingAfter, pendingEpoch, probe);
      }
      busy = null;
    }

    async function handle(batch: StreamEntry[], after: string[], at: number, probe: ProbeAnswer | null): Promise<void> {
      try {
        await relay(batch, after, probe, () => pendingEpoch === epoch);
        if (at === epoch) handled = after;
        failures = 0;
      } catch (err) {
        if (at !== epoch || closed) return;
        // After a pause the same entries come again from the last batch handled (a repeat, not a gap).
        epoch++;
        consumer.positions = null;
        if (++failures === 3) logger.warn({ err: (err as Error).message, group: set.group?.name }, 'event relay failed; retrying');
        setTimeout(
          () => {
            if (!closed && handled && consumer.positions === null) follow(handled);
          },
          Math.min(200 * failures, 2000),
        ).unref?.();
      }
    }

    /** With the lease just taken: learns where to start (saving it) and follows from there. */
    async function start(): Promise<void> {
      if (handled) return;
      const pipe = deps.redis.pipeline();
      for (const g of groups) pipe.hgetall(keys.relayPositions(g));
      const stored: Record<string, string> = {};
      for (const h of await execOrThrow(pipe)) Object.assign(stored, h as Record<string, string>);
      const ends = await streamPositions(deps.redis, streams);
      // A queue never relayed before starts at its end: its past is not news. That start is
      // saved at once, so a batch that fails after it is read again, not skipped.
      const fresh = Object.fromEntries(streams.filter((s) => stored[s] === undefined).map((s) => [s, ends[streams.indexOf(s)]]));
      if (Object.keys(fresh).length > 0) {
        const save = deps.redis.pipeline();
        savePositions(save, keys, set, fresh);
        await execOrThrow(save);
      }
      if (closed) return;
      handled = streams.map((s) => stored[s] ?? fresh[s]);
      follow(handled);
    }

    /** Writes positions handled but not saved yet (before handing the lease over); refused, they wait for the next write. */
    async function flushPositions(): Promise<void> {
      const pipe = deps.redis.pipeline();
      const carried = unsaved.rideOn(pipe);
      if (!carried) return;
      const replies = (await pipe.exec()) ?? [];
      if (replies.some(([err]) => err)) unsaved.restore(carried);
    }

    return {
      start,
      flushPositions,
      /** Stops relaying (the lease is lost or in doubt); the next start reads what is saved. */
      stop: () => {
        if (handled) stop();
      },
      stopNow: stop,
      async close() {
        epoch++;
        follower.remove(consumer);
        await settleWithin(Promise.all([busy, sweeper.close()]), 50);
        await flushPositions().catch(() => undefined);
      },
    };
  }
  const lanes = followers.map(lane);
  const housekeeping = createHousekeeping({ config: deps.config, keys, redis: deps.redis, types: deps.types, logger });
  /** The running round of housekeeping: not awaited by the lease loop, whose renewals must not wait on it. */
  let tidying: Promise<void> = Promise.resolve();

  /** Takes or renews the lease; on taking it, learns where to start and saves that. */
  async function takeLease(): Promise<void> {
    const held = (await redis.ajRelayLease(keys.relayLease, token, LEASE_MS)) === 1;
    if (!held) {
      for (const l of lanes) l.stop();
      return;
    }
    await Promise.all(lanes.map((l) => l.start()));
    await Promise.all(lanes.map((l) => l.flushPositions()));
    tidying = housekeeping.due();
  }

  // Resolved by the loop's first lease attempt that Redis answered: from then on nothing is missed.
  let firstTried!: () => void;
  const first = new Promise<void>((resolve) => (firstTried = resolve));
  const loop = (async () => {
    let leaseFailures = 0;
    while (!closed) {
      try {
        await takeLease();
        firstTried();
        leaseFailures = 0;
      } catch (err) {
        if (closed) break;
        // Unsure whether the lease is still ours: stop, and go on from what is saved once Redis answers.
        for (const l of lanes) l.stopNow();
        if (++leaseFailures === 3) logger.warn({ err: (err as Error).message }, 'event relay lease failed; retrying');
      }
      // A close() during the lease call woke no sleep: checked here, or the loop would sleep out RENEW_MS after it.
      if (!closed) await pause(RENEW_MS);
    }
  })();

  let closing: Promise<void> | undefined;
  return {
    ready: () => first,
    close() {
      closing ??= (async () => {
        closed = true;
        firstTried();
        wake();
        await settleWithin(loop, 50);
        await Promise.all([...lanes.map((l) => l.close()), settleWithin(tidying, 50)]);
        // Hand over at once rather than after the lease lapses; in one script, so that a lease
        // another process took meanwhile is never the one deleted.
        if (deps.redis.status === 'ready') await deleteIfEqual(deps.redis, keys.relayLease, token).catch(() => undefined);
      })();
      return closing;
    },
  };
}
