import type { CallbackInfo } from './callbacks';
import { childRefsOf, viewOfGone, viewOfJob, type JobRecord, type Tombstone } from './job-view';
import type { JobRef } from './flow-children';
import type { JobState } from './job-state';
import { jobTypeNames } from './jobs/index';
import type { Keyspace } from './keyspace';
import { luaScript } from './lua/scripts';
import type { RedisClient } from './redis';

export type { ErrorInfo, JobRecord } from './job-view';

export interface ResultsStoreOptions {
  redis: RedisClient;
  keys: Keyspace;
  resultTtlSeconds: number;
  /** Queues (job types) a job may be in; default the built-in types. */
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

/**
 * The results store is BullMQ's own record of each job (docs/wire-format.md): one script
 * call reads a job's hash, its state and our tombstone beside it, and maps them to the
 * resource clients see. Nothing here writes a job's state; BullMQ does, for whichever
 * worker or tool acts on the job.
 */
export function createResultsStore(opts: ResultsStoreOptions) {
  const { keys } = opts;
  const types = opts.types ?? jobTypeNames;
  const redis = opts.redis as ScriptRedis;
  if (typeof redis.ajReadJob !== 'function') redis.defineCommand('ajReadJob', { numberOfKeys: 1, lua: luaScript('read-job') });
  if (typeof redis.ajSetIfExists !== 'function') redis.defineCommand('ajSetIfExists', { numberOfKeys: 1, lua: luaScript('set-if-exists') });

  const argsFor = (id: string, hint?: string): [string, ...string[]] => {
    const order = hint && types.includes(hint) ? [hint, ...types.filter((t) => t !== hint)] : [...types];
    return [keys.job(order[0], id), keys.bullPrefix, id, ...order];
  };

  const decode = (id: string, reply: unknown[]): Lookup & { childRefs?: JobRef[] } => {
    if (reply.length === 0) return NOTHING;
    const [type, state, hash, lastEventId, tomb, childKeys] = reply as [string, string, string[], string, string[], string[]];
    const t = pairs(tomb) as Tombstone;
    if (state) {
      const h = pairs(hash);
      const childRefs = childRefsOf(h, childKeys ?? []);
      return { record: viewOfJob(id, type, state as JobState, h, t), expired: false, lastEventId, ...(childRefs.length ? { childRefs } : {}) };
    }
    const gone = viewOfGone(id, type, t, opts.resultTtlSeconds);
    return { record: gone, expired: gone === null, lastEventId };
  };

  async function lookup(id: string, typeHint?: string): Promise<Lookup> {
    const { childRefs, ...found } = decode(id, await redis.ajReadJob(...argsFor(id, typeHint)));
    // A flow's parent: its children's states, from the same reads as any job's (a second round trip, parents only).
    if (childRefs && found.record) {
      const states = await readMany(
        childRefs.map((c) => c.id),
        childRefs.map((c) => c.type),
      );
      found.record.children = childRefs.flatMap((c, i) => (states[i] ? [{ id: c.id, type: c.type, state: states[i]!.state }] : []));
    }
    return found;
  }

  /** Many jobs in one round trip, in the order of `ids`; null where there is none. */
  async function readMany(ids: readonly string[], typeHints: readonly (string | undefined)[] = []): Promise<(JobRecord | null)[]> {
    if (ids.length === 0) return [];
    const pipe = redis.pipeline() as unknown as ScriptRedis & { exec(): Promise<[Error | null, unknown][]> };
    ids.forEach((id, i) => void pipe.ajReadJob(...argsFor(id, typeHints[i])));
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, reply], i) => {
      if (err) throw err;
      return decode(ids[i], reply as unknown[]).record;
    });
  }

  return {
    lookup,

    async read(id: string, typeHint?: string): Promise<JobRecord | null> {
      return (await lookup(id, typeHint)).record;
    },

    readMany,

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
