import type { CallbackInfo } from './callbacks';
import { childRefsOf, failedChildOf, viewOfGone, viewOfJob, withChildReason, type JobRecord, type Tombstone } from './job-view';
import type { JobRef } from './flow-children';
import type { JobState } from './job-state';
import { jobTypeNames } from './jobs/index';
import type { Keyspace } from './keyspace';
import type { QueueGroup } from './queue-layout';
import { execRouted, type RoutedCommand } from './slot-routing';
import { defineScript } from './lua/scripts';
import type { RedisClient } from './redis';
import type { ChainableCommander } from 'ioredis';

export type { ErrorInfo, JobRecord } from './job-view';

export interface ResultsStoreOptions {
  redis: RedisClient;
  keys: Keyspace;
  resultTtlSeconds: number;
  /** Job types a job may be of (their queues are looked in); default the built-in types. */
  types?: readonly string[];
}

/** What one read found: the job, or that it existed once (expired), and its queue's newest event id. */
export interface Lookup {
  record: JobRecord | null;
  expired: boolean;
  /** The newest id in the job's queue event stream when it was read; "0-0" when none. */
  lastEventId: string;
}

type ScriptRedis = RedisClient & {
  ajReadJob(key: string, ...args: string[]): Promise<unknown[]>;
  ajSetIfExists(key: string, field: string, value: string): Promise<number>;
};

const pairs = (flat: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
};

const NOTHING: Lookup = { record: null, expired: false, lastEventId: '0-0' };

/** A lookup with what only this module uses: a parent's children, and the child a failed parent failed because of. */
type Found = Lookup & { childRefs?: JobRef[]; failedChild?: JobRef };

/**
 * A read of one job that can ride on another pipeline (the stream follower's, right behind
 * its XREAD): `queue` adds the one script call, `decode` reads its answer. decode gives
 * null where a plain lookup must decide instead (no job found under that type, or a flow
 * parent, whose children take a second read).
 */
export interface Peek {
  /** The queue group whose slot the read touches: it may only ride on a connection of that group. */
  group: QueueGroup;
  /** The key the read touches (for routing on a Cluster). */
  key: string;
  queue(pipe: ChainableCommander): void;
  decode(reply: unknown): JobRecord | null;
}

/** Where to look for a job: in the queues of one type (likeliest), or in every queue of one group. */
export type ReadHint = string | { group: QueueGroup } | undefined;

/**
 * The results store is BullMQ's own record of each job (docs/wire-format.md): one script
 * call reads a job's hash, its state and our tombstone beside it, and maps them to the
 * resource clients see. Nothing here writes a job's state; BullMQ does, for whichever
 * worker or tool acts on the job.
 *
 * With queue groups (queue-layout.ts) a script call reads the queues of one group (one
 * slot). A read whose type is known goes to that type's queue (the shard its id picks)
 * and its group only; an id alone is looked for in every group at once (one script call
 * per group, sent together: one round trip per node, in parallel), or in one group when
 * the caller knows it (the ids of a group's callbacks-due set).
 */
export function createResultsStore(opts: ResultsStoreOptions) {
  const { keys } = opts;
  const types = opts.types ?? jobTypeNames;
  const redis = opts.redis as ScriptRedis;
  const defineRead = (conn: RedisClient) => {
    defineScript(conn, 'ajReadJob', 'read-job', 1);
  };
  defineRead(redis);
  defineScript(redis, 'ajSetIfExists', 'set-if-exists', 1);

  // Every queue to look in, by group, in type order.
  const queuesByGroup = new Map<QueueGroup, string[]>(keys.groups.map((g) => [g, []]));
  for (const t of types) for (const q of keys.queuesOf(t)) queuesByGroup.get(keys.layout.groupOfQueue(q))!.push(q);
  const probed = [...queuesByGroup].filter(([, qs]) => qs.length > 0);

  /** The script call of one group: its queues, `first` (if given) before the rest. */
  const callIn = (id: string, group: QueueGroup, first?: string): RoutedCommand => {
    const qs = queuesByGroup.get(group) ?? [];
    const order = first ? [first, ...qs.filter((q) => q !== first)] : qs;
    const args: [string, ...string[]] = [`${group.prefix}:${order[0] ?? '~'}:${id}`, group.prefix, id, ...order];
    return { key: args[0], queue: (pipe) => void (pipe as unknown as ScriptRedis).ajReadJob(...args) };
  };

  /** The calls that find `id`: one when the hint names its type or its group, else one per group. */
  const callsFor = (id: string, hint: ReadHint): RoutedCommand[] => {
    if (typeof hint === 'string' && types.includes(hint)) {
      const q = keys.queueOf(hint, id);
      return [callIn(id, keys.layout.groupOfQueue(q), q)];
    }
    if (hint && typeof hint === 'object') return [callIn(id, hint.group)];
    return probed.map(([g]) => callIn(id, g));
  };

  const decode = (id: string, reply: unknown[]): Found => {
    if (reply.length === 0) return NOTHING;
    const [queue, state, hash, lastEventId, tomb, childKeys] = reply as [string, string, string[], string, string[], string[]];
    const type = keys.layout.typeOfQueue(queue);
    const t = pairs(tomb) as Tombstone;
    if (state) {
      const h = pairs(hash);
      const childRefs = childRefsOf(h, childKeys ?? []).map((r) => ({ ...r, type: keys.layout.typeOfQueue(r.type) }));
      const found: Found = { record: viewOfJob(id, type, state as JobState, h, t), expired: false, lastEventId };
      if (childRefs.length) found.childRefs = childRefs;
      const failedChild = state === 'failed' ? failedChildOf(h) : null;
      if (failedChild) found.failedChild = { ...failedChild, type: keys.layout.typeOfQueue(failedChild.type) };
      return found;
    }
    const gone = viewOfGone(id, type, t, opts.resultTtlSeconds);
    return { record: gone, expired: gone === null, lastEventId };
  };

  /** Reads every id (each with its hint) in one go; a hinted read that finds nothing is tried in every group. */
  async function readFound(ids: readonly string[], hints: readonly ReadHint[]): Promise<Found[]> {
    const calls = ids.map((id, i) => callsFor(id, hints[i]));
    const replies = await execRouted(redis, calls.flat());
    let at = 0;
    const out = calls.map((c, i) => {
      let found: Found = NOTHING;
      for (let k = 0; k < c.length; k++) {
        const [err, reply] = replies[at++];
        if (err) throw err;
        const one = decode(ids[i], reply as unknown[]);
        // A live job wins over a tombstone alone (an id is in one queue; this only orders the unusual).
        if (found === NOTHING || (!found.record && one.record)) found = one.record || one.expired ? one : found;
      }
      return found;
    });
    // Rare: a hint that pointed elsewhere (a job another producer put in another shard or type).
    const missed = out.flatMap((l, i) => (l === NOTHING && hints[i] !== undefined && probed.length > 1 ? [i] : []));
    if (missed.length > 0) {
      const again = await readFound(
        missed.map((i) => ids[i]),
        missed.map(() => undefined),
      );
      for (const [k, i] of missed.entries()) out[i] = again[k];
    }
    return out;
  }

  /** readFound, with each failed parent's error carrying its child's reason (addChildReasons). */
  async function lookupMany(ids: readonly string[], hints: readonly ReadHint[]): Promise<Found[]> {
    const out = await readFound(ids, hints);
    await addChildReasons(out);
    return out;
  }

  const refKey = (r: JobRef) => `${r.type}\n${r.id}`;

  /**
   * A parent that failed because of a child reads `child <type> job <id> failed: <the child's
   * message>` (failed parents only; a child that failed because of its own child reads so in
   * turn, down the flow). The child is taken from `known` (jobs already read, by type and id)
   * when it is there, else read: one more round trip for all of them.
   */
  async function addChildReasons(found: readonly Found[], known = new Map<string, Found>()): Promise<void> {
    const parents = found.filter((f) => f.failedChild && f.record?.error);
    const unread = parents.map((p) => p.failedChild!).filter((c) => !known.has(refKey(c)));
    if (unread.length > 0) {
      const read = await lookupMany(
        unread.map((c) => c.id),
        unread.map((c) => c.type),
      );
      for (const [k, c] of unread.entries()) known.set(refKey(c), read[k]);
    }
    for (const { record, failedChild } of parents) {
      const own = known.get(refKey(failedChild!))?.record?.error;
      if (!own || !record?.error) continue;
      const error = withChildReason(record.error, own);
      // viewOfJob gives both the same object when the last attempt's error is the final one.
      if (record.lastError === record.error) record.lastError = error;
      record.error = error;
    }
  }

  async function lookup(id: string, typeHint?: string): Promise<Lookup> {
    const [found] = await readFound([id], [typeHint]);
    const { childRefs } = found;
    // A flow's parent: its children's states, from the same reads as any job's (a second round trip, parents only).
    const children = new Map<string, Found>();
    if (childRefs && found.record) {
      const states = await lookupMany(
        childRefs.map((c) => c.id),
        childRefs.map((c) => c.type),
      );
      for (const [i, c] of childRefs.entries()) children.set(refKey(c), states[i]);
      found.record.children = childRefs.flatMap((c, i) => (states[i].record ? [{ id: c.id, type: c.type, state: states[i].record!.state }] : []));
    }
    // The child it failed because of is one of those just read, as a rule: no further read then.
    await addChildReasons([found], children);
    return { record: found.record, expired: found.expired, lastEventId: found.lastEventId };
  }

  return {
    lookup,

    /** Makes peek()'s reads known to another connection (and so to its pipelines). */
    defineOn: defineRead,

    /** A read of job `id` of type `type` to queue on another pipeline (Peek); null for a type this store does not know. */
    peek(id: string, type: string): Peek | null {
      if (!types.includes(type)) return null;
      const q = keys.queueOf(type, id);
      const group = keys.layout.groupOfQueue(q);
      const call = callIn(id, group, q);
      return {
        group,
        key: call.key,
        queue: call.queue,
        decode(reply) {
          if (!Array.isArray(reply)) return null;
          const found = decode(id, reply);
          // A parent needs a second read (its children's states, a failed child's reason): a lookup does it.
          return found.childRefs || found.failedChild ? null : found.record;
        },
      };
    },

    async read(id: string, typeHint?: string): Promise<JobRecord | null> {
      return (await lookup(id, typeHint)).record;
    },

    /** Many jobs in one round trip (per node), in the order of `ids`; null where there is none. */
    async readMany(ids: readonly string[], hints: readonly ReadHint[] = []): Promise<(JobRecord | null)[]> {
      if (ids.length === 0) return [];
      return (
        await lookupMany(
          ids,
          ids.map((_, i) => hints[i]),
        )
      ).map((l) => l.record);
    },

    /** Many peeks at once on this store's connection: one round trip (per node); null where a plain lookup must decide. */
    async readPeeks(peeks: readonly Peek[]): Promise<(JobRecord | null)[]> {
      const replies = await execRouted(redis, peeks);
      return replies.map(([err, reply], i) => (err ? null : peeks[i].decode(reply)));
    },

    /** For an id with no job: did it exist once (its record expired) or never? */
    async wasKnown(id: string): Promise<boolean> {
      const found = await lookup(id);
      return found.record !== null || found.expired;
    },

    /** Callback delivery state, kept in the job's tombstone while that exists. */
    async setCallback(type: string, id: string, info: CallbackInfo): Promise<void> {
      await redis.ajSetIfExists(keys.tombstone(type, id), 'cb', JSON.stringify(info));
    },
  };
}

export type ResultsStore = ReturnType<typeof createResultsStore>;
