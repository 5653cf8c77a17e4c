import { encodeEvent, defineScript, type JobRecord, type QueueGroup, type RedisClient } from '@async-jobs/shared';
import { execOrThrow } from '../redis-exec';
import { backFromAttempt, countedAs, ENDING_EVENTS, removedAfterEnding, retriedByHand } from './lifecycle';
import type { RelayDeps, RelayedChange } from './relay';
import type { EndedJob } from './relay-callbacks';
import { delayedReader, type DelayedReading } from './delayed-entries';
import { messageOf } from './relay-messages';
import type { OwnJobs } from './own-jobs';
import type { UnsentPositions } from './relay-positions';
import type { ProbeAnswer } from './relay-probe';
import type { StreamEntry, StreamSet } from './streams';
import { indexCutoff } from '../jobs/job-index';

/** Messages per publish-many call: about a millisecond of Redis's time at most. */
const PUBLISH_CHUNK = 500;

type BatchRedis = RedisClient & {
  ajIndexAdded(key: string, ...args: string[]): Promise<string[]>;
  ajPublishMany(channel: string, ...messages: string[]): Promise<number>;
};

export interface BatchContext {
  deps: Pick<RelayDeps, 'keys' | 'redis' | 'store' | 'ownJobs' | 'onRelayed' | 'onRetries' | 'onRetriedByHand'>;
  /** The lane's streams, and the groups of their queues. */
  set: StreamSet;
  groups: readonly QueueGroup[];
  /** false on a Cluster, where NUMSUB counts one node's subscribers only: there the relay always publishes. */
  countListeners: boolean;
  /** How long a listed job's index entry outlives it: RESULT_TTL_SECONDS + TOMBSTONE_TTL_SECONDS. */
  tombstoneSeconds: number;
  /** How long an index entry may outlive its submission (job-index.ts indexHorizonMs). */
  indexHorizonMs: number;
  handOver(jobs: EndedJob[]): Promise<void>;
  /** Makes jobs retried by hand due a callback again (when they asked for one). */
  restoreDue(jobs: { id: string; type: string }[]): Promise<void>;
  unsaved: UnsentPositions;
}

/**
 * The entries of a batch that bear on callbacks: endings to ask the due set about (none
 * while nothing is due, and none of this process's jobs that asked for no callback), and
 * jobs an operator ran again after they ended (a retry by hand) within the batch. Their due
 * entry, dropped when the callback of the run before was handed over, comes back only after
 * the batch (`stillRunning`), so a rerun's ending within it is handed over without asking
 * the due set (`rerunEndings`: its tombstone's URL decides).
 */
function callbackEntries(batch: readonly StreamEntry[], anyDue: boolean, own: OwnJobs | undefined) {
  const rerun = new Map<string, { type: string; ended: boolean }>();
  const rerunEndings: StreamEntry[] = [];
  const ending: StreamEntry[] = [];
  for (const e of batch) {
    if (!e.jobId) continue;
    if (retriedByHand(e)) rerun.set(e.jobId, { type: e.type, ended: false });
    // A job removed after it ended had its callback handed over at its ending: the removal is not another.
    else if (!ENDING_EVENTS.has(e.event) || removedAfterEnding(e)) continue;
    else if (rerun.has(e.jobId)) {
      rerunEndings.push(e);
      rerun.get(e.jobId)!.ended = true;
    } else if (anyDue && (own?.mayHaveCallback(e.jobId) ?? true)) ending.push(e);
  }
  const stillRunning = [...rerun].filter(([, r]) => !r.ended).map(([id, r]) => ({ id, type: r.type }));
  return { ending, rerunEndings, stillRunning };
}

/**
 * What one relay lane does with each batch of entries (relay.ts): lists jobs of other
 * producers, hands due callbacks over, counts changes, publishes their jobs:events
 * messages and saves where it got to. Keeps, across batches, what the next batch needs:
 * what tells a retry's `delayed` entry from others (delayed-entries.ts), and the jobs
 * listed but not yet announced.
 * A batch that throws is read again by the lane (a repeat, never a gap).
 */
export function batchRelay(ctx: BatchContext) {
  const { deps, set, groups, countListeners, tombstoneSeconds, indexHorizonMs, unsaved } = ctx;
  const { keys } = deps;
  const streams = set.streams;
  const groupOf = (queue: string) => keys.layout.groupOfQueue(queue);
  const redis = deps.redis as BatchRedis;
  defineScript(redis, 'ajIndexAdded', 'index-added', 1);
  defineScript(redis, 'ajPublishMany', 'publish-many', 0);
  /**
   * Jobs `index-added.lua` listed (id: state at submit) until their batch is handled: it lists
   * a job once, so one whose batch failed is announced on the retry from here.
   */
  const indexedUnannounced = new Map<string, string>();
  const delays = delayedReader(set.queues);
  /**
   * Asks Redis, in one round trip with the positions of the batches before, what this batch
   * needs: how many listen (unless the probe said), which of the added jobs are of other
   * producers (index-added.lua lists them), and which endings are due a callback.
   */
  async function ask(added: StreamEntry[], ending: StreamEntry[], probe: ProbeAnswer | null): Promise<{ listeners: number; due: StreamEntry[] }> {
    const pipe = deps.redis.pipeline();
    const askListeners = countListeners && probe?.listeners === undefined;
    if (askListeners) pipe.pubsub('NUMSUB', keys.eventsChannel);
    const addedBy = groups.map((g) => added.filter((e) => groupOf(e.queue) === g));
    const endingBy = groups.map((g) => ending.filter((e) => groupOf(e.queue) === g));
    for (const [k, g] of groups.entries()) {
      if (addedBy[k].length > 0)
        (pipe as unknown as BatchRedis).ajIndexAdded(
          keys.typeIndex(g, ''),
          g.prefix,
          String(tombstoneSeconds),
          indexCutoff(indexHorizonMs),
          ...addedBy[k].flatMap((e) => [e.queue, e.type, e.jobId!]),
        );
      if (endingBy[k].length > 0) pipe.zmscore(keys.callbacksDue(g), ...endingBy[k].map((e) => e.jobId!));
    }
    // Where the batches before this one left off: they are handled, so this can go with the questions.
    if (pipe.length > 0) unsaved.rideOn(pipe);
    const replies = pipe.length > 0 ? await execOrThrow(pipe) : [];
    let r = 0;
    const listeners = !countListeners ? 1 : askListeners ? Number((replies[r++] as [string, number])[1]) : probe!.listeners!;
    const due: StreamEntry[] = [];
    for (const k of groups.keys()) {
      if (addedBy[k].length > 0) {
        const listed = replies[r++] as string[];
        for (let i = 0; i + 1 < listed.length; i += 2) indexedUnannounced.set(listed[i], listed[i + 1]);
      }
      if (endingBy[k].length > 0) {
        const answers = replies[r++] as (string | null)[];
        for (const [i, e] of endingBy[k].entries()) if (answers[i] !== null) due.push(e);
      }
    }
    return { listeners, due };
  }

  /**
   * Whether a failure was a cancel (counted even with nobody listening), why a job was removed,
   * a retry's error, and whether a `delayed` entry of a job this relay did not see start is a
   * retry: read from the job.
   */
  async function readViews(batch: StreamEntry[], listeners: number, delayed: DelayedReading): Promise<Map<StreamEntry, JobRecord | null>> {
    const needViews = batch.filter(
      (e) =>
        e.event === 'failed' ||
        delayed.kinds.get(e) === 'unknown' ||
        (listeners > 0 && (e.event === 'removed' || delayed.kinds.get(e) === 'retry' || (e.event === 'waiting' && e.fields.prev === 'active'))),
    );
    const views = await deps.store.readMany(
      needViews.map((e) => e.jobId!),
      needViews.map((e) => e.type),
    );
    return new Map(needViews.map((e, i) => [e, views[i]]));
  }

  /** The batch's jobs:events messages (with someone listening), its counted changes, and its retries by cause. */
  function describe(
    batch: StreamEntry[],
    listeners: number,
    foreign: ReadonlyMap<string, string>,
    viewOf: ReadonlyMap<StreamEntry, JobRecord | null>,
    delayed: DelayedReading,
  ) {
    const changes: RelayedChange[] = [];
    const messages: string[] = [];
    const retried: { type: string; id: string }[] = [];
    const byHand: { type: string; id: string }[] = [];
    for (const e of batch) {
      const view = viewOf.get(e);
      const delayedRetry = e.event === 'delayed' && delayed.isRetry(e, view?.startedAt);
      const message = listeners > 0 ? messageOf(e, delayedRetry, foreign, view) : null;
      if (message) messages.push(encodeEvent(message));
      const change = countedAs(e, delayedRetry, view?.state);
      if (change) changes.push({ type: e.type, change });
      if (change === 'retrying') (backFromAttempt(e) ? retried : byHand).push({ type: e.type, id: e.jobId! });
    }
    return { changes, messages, retried, byHand };
  }

  /**
   * Publishes `messages` and saves `after` as where the lane goes on from. With nothing to
   * publish, the positions go with the next batch's first round trip, or with the lease's
   * next renewal (within RENEW_MS) when no batch follows: not a round trip per batch.
   */
  async function publishAndSave(messages: string[], after: readonly string[], current: () => boolean): Promise<void> {
    const out = deps.redis.pipeline();
    // A call per PUBLISH_CHUNK messages, in order (publish-many.lua): a command per message cost the
    // API 10–25 % more CPU per job with a subscriber; chunks keep any one call from holding Redis long.
    for (let i = 0; i < messages.length; i += PUBLISH_CHUNK) {
      (out as unknown as BatchRedis).ajPublishMany(keys.eventsChannel, ...messages.slice(i, i + PUBLISH_CHUNK));
    }
    unsaved.handled(Object.fromEntries(streams.map((s, i) => [s, after[i]])));
    if (out.length === 0 && current()) return;
    const publishes = out.length;
    const carried = unsaved.rideOn(out);
    const written = (await out.exec()) ?? [];
    // A publish refused fails the batch (read again: a repeat, not a loss). A position save refused
    // (Redis out of memory refuses writes, not PUBLISH) is not worth a repeat: the next write carries it.
    for (const [err] of written.slice(0, publishes)) if (err) throw err;
    if (carried && written.slice(publishes).some(([err]) => err)) unsaved.restore(carried);
  }

  /**
   * Does what `batch` calls for, then saves `after` as where to go on from. Redis is asked
   * only what neither the probes behind the reads nor the process's own submits answer:
   * with nobody listening, a batch of this process's jobs without callbacks costs no
   * round trip at all (its positions go with a later write).
   */
  async function relayOnce(batch: StreamEntry[], after: readonly string[], probe: ProbeAnswer | null, current: () => boolean): Promise<void> {
    const own = deps.ownJobs;
    const added = batch.filter((e) => e.event === 'added' && e.jobId && !own?.isOwn(e.jobId));
    const { ending, rerunEndings, stillRunning } = callbackEntries(batch, probe?.callbacksDue ?? true, own);
    const delayed = delays.read(batch);
    if (own) for (const e of batch) if (ENDING_EVENTS.has(e.event) && e.jobId) own.ended(e.jobId);
    const { listeners, due } = await ask(added, ending, probe);
    /** Jobs of other producers to announce, with the state they were submitted in. */
    const foreign = new Map<string, string>();
    for (const e of added) {
      const state = indexedUnannounced.get(e.jobId!);
      if (state) foreign.set(e.jobId!, state);
    }
    const viewOf = await readViews(batch, listeners, delayed);
    const handed = [...rerunEndings, ...due];
    if (handed.length > 0) await ctx.handOver(handed.map((e) => ({ id: e.jobId!, type: e.type, outcome: e.id.replace('-', '_') })));

    const { changes, messages, retried, byHand } = describe(batch, listeners, foreign, viewOf, delayed);
    if (retried.length > 0) await deps.onRetries?.(retried);
    if (byHand.length > 0) await deps.onRetriedByHand?.(byHand);
    // Those whose new run did not end within this batch are due again (a run that did was handed over above).
    if (stillRunning.length > 0) await ctx.restoreDue(stillRunning);
    await publishAndSave(messages, after, current);
    delayed.commit();
    if (changes.length > 0) deps.onRelayed?.(changes);
  }

  /** Handles `batch`, after which the lane is at `after`; `current()`: the lane has not stopped or moved back since it was read. */
  return async function relay(batch: StreamEntry[], after: readonly string[], probe: ProbeAnswer | null, current: () => boolean): Promise<void> {
    await relayOnce(batch, after, probe, current);
    indexedUnannounced.clear();
  };
}
