import type { CallbackInfo } from './callbacks';
import { JobCancelledError } from './errors';
import { encodeEvent, type JobEvent } from './events';
import { isTerminal, recordVersion, type JobState } from './job-state';
import type { Keyspace } from './keyspace';
import { REOPEN_LUA } from './lua/reopen';
import { SET_IF_EXISTS_LUA } from './lua/set-if-exists';
import { UPSERT_LUA } from './lua/upsert';
import type { RedisClient } from './redis';
import { execRouted, type RoutedCommand } from './slot-routing';

export interface ErrorInfo {
  name: string;
  message: string;
}

/** The stored view of one job; what clients see through the API. */
export interface JobRecord {
  id: string;
  type: string;
  state: JobState;
  progress: unknown;
  attempts: { made: number; max: number };
  submittedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  result: unknown;
  error: ErrorInfo | null;
  lastError: ErrorInfo | null;
  /** Present only for jobs submitted with a callbackUrl. */
  callback?: CallbackInfo;
}

/**
 * One change to a record. `attempt` is the attempt this write belongs to (1-based;
 * for "queued again after a failure", the attempt that comes next).
 */
export interface RecordWrite {
  id: string;
  type: string;
  state: JobState;
  attempt: number;
  fields?: Partial<Omit<JobRecord, 'id' | 'type' | 'state'>>;
  event?: Omit<JobEvent, 'id' | 'type' | 'state' | 'at' | 'record'> | null;
  /**
   * A non-terminal write of an attempt that has already ended, sent just before that
   * attempt's outcome: a pending cancel does not refuse it (the outcome settles the job).
   */
  attemptFinished?: boolean;
}

export interface ResultsStoreOptions {
  redis: RedisClient;
  keys: Keyspace;
  resultTtlSeconds: number;
  tombstoneTtlSeconds: number;
  /** Events kept per job for SSE resume. */
  eventLogMax?: number;
}

type UpsertRedis = RedisClient & {
  ajUpsert(...args: (string | number)[]): Promise<number[]>;
  ajReopen(...args: (string | number)[]): Promise<number>;
  ajSetIfExists(key: string, field: string, value: string): Promise<number>;
};

/** A manual retry of a failed job: `attempt` is the attempt that runs next. */
export interface ReopenWrite {
  id: string;
  type: string;
  attempt: number;
}

/** `reopened`, or why not: the record is not `failed` (or gone), or a newer attempt already wrote to it. */
export type ReopenOutcome = 'reopened' | 'not_failed' | 'ahead';

const JSON_FIELDS = ['progress', 'result', 'error', 'lastError', 'callback'] as const;

function encodeFields(w: RecordWrite): string[] {
  // No id field: the key says it (a terminal record is kept for a day; every byte counts).
  const out = ['type', w.type, 'state', w.state];
  const f = w.fields ?? {};
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue;
    if (k === 'attempts') {
      const a = v as JobRecord['attempts'];
      out.push('made', String(a.made), 'max', String(a.max));
    } else if ((JSON_FIELDS as readonly string[]).includes(k)) {
      out.push(k, JSON.stringify(v));
    } else {
      out.push(k, String(v ?? ''));
    }
  }
  return out;
}

function decode(h: Record<string, string>, id: string): JobRecord {
  const json = (k: string) => (h[k] ? JSON.parse(h[k]) : null);
  const record: JobRecord = {
    id,
    type: h.type ?? '',
    state: h.state as JobState,
    progress: json('progress') ?? 0,
    attempts: { made: Number(h.made ?? 0), max: Number(h.max ?? 1) },
    submittedAt: h.submittedAt || null,
    startedAt: h.startedAt || null,
    finishedAt: h.finishedAt || null,
    result: json('result'),
    error: json('error'),
    lastError: json('lastError'),
  };
  if (h.callback) record.callback = JSON.parse(h.callback) as CallbackInfo;
  // A finished job is all done, whether or not its handler ever said so; an object it reported stays.
  if (record.state === 'completed' && (typeof record.progress !== 'object' || record.progress === null)) record.progress = 100;
  return record;
}

export type ResultsStore = ReturnType<typeof createResultsStore>;


/**
 * The job records in Redis: one hash per job, read in one round trip. Writes go
 * through one Lua script that drops stale writes, sets the TTLs of a terminal
 * record, appends to the job's event log and publishes the event, atomically:
 * a client never sees an event whose state is not yet readable.
 */
export function createResultsStore(opts: ResultsStoreOptions) {
  const { keys } = opts;
  const redis = opts.redis as UpsertRedis;
  if (typeof redis.ajUpsert !== 'function') redis.defineCommand('ajUpsert', { numberOfKeys: 4, lua: UPSERT_LUA });
  if (typeof redis.ajSetIfExists !== 'function') redis.defineCommand('ajSetIfExists', { numberOfKeys: 1, lua: SET_IF_EXISTS_LUA });
  if (typeof redis.ajReopen !== 'function') redis.defineCommand('ajReopen', { numberOfKeys: 2, lua: REOPEN_LUA });
  const eventLogMax = opts.eventLogMax ?? 200;
  // Once terminal, the log only serves SSE clients resuming a dropped stream (they retry within
  // seconds); later ones get the final state from the record. Kept 5 minutes, not for RESULT_TTL.
  const eventLogTtl = Math.min(opts.resultTtlSeconds, 300);

  /** One write's values, as lua/upsert.ts reads them after its keys: their count first. */
  function argv(w: RecordWrite): (string | number)[] {
    const terminal = isTerminal(w.state);
    const event = w.event ? encodeEvent({ ...w.event, state: w.state, at: new Date().toISOString() }) : '';
    const values = [
      recordVersion(w.attempt, w.state),
      terminal ? 'T' : w.attemptFinished ? 'F' : 'C',
      opts.resultTtlSeconds,
      opts.tombstoneTtlSeconds,
      eventLogTtl,
      keys.eventsChannel,
      event,
      eventLogMax,
      w.id,
      ...encodeFields(w),
    ];
    return [values.length, ...values];
  }

  /** The script's arguments for writes to one job (`ws[0].id`), applied in order. */
  function args(ws: readonly RecordWrite[]): (string | number)[] {
    const id = ws[0].id;
    return [keys.record(id), keys.tombstone(id), keys.eventLog(id), keys.cancelFlag(id), ...ws.flatMap(argv)];
  }

  /**
   * Consecutive writes to one job (e.g. a deferred `active` and the outcome of the same
   * attempt) in one script call: one round trip, each write applied and published in order.
   */
  async function applySteps(ws: readonly RecordWrite[]): Promise<boolean[]> {
    if (ws.some((w) => w.id !== ws[0].id)) throw new Error('applySteps: every write must be to the same job');
    const rs = await redis.ajUpsert(...args(ws));
    if (rs.includes(2)) throw new JobCancelledError(ws[0].id);
    return rs.map((r) => r === 1);
  }

  /** One write's upsert as a command, for a pipeline or transaction of the caller's. */
  const upsertCommand = (w: RecordWrite): RoutedCommand => ({
    key: keys.record(w.id),
    queue: (pipe) => void (pipe as unknown as UpsertRedis).ajUpsert(...args([w])),
  });

  return {
    /** Applies one write; false when it was stale (the record is already further on). */
    async apply(w: RecordWrite): Promise<boolean> {
      const [applied] = await applySteps([w]);
      return applied;
    },

    applySteps,

    /**
     * Applies many writes in one round trip (on a Cluster, one per node, in parallel; see
     * slot-routing.ts). `extra` commands go with them (e.g. index entries written with the
     * records); their replies are not returned.
     */
    async applyMany(writes: RecordWrite[], extra: readonly RoutedCommand[] = []): Promise<boolean[]> {
      const res = await execRouted(redis, [...writes.map(upsertCommand), ...extra]);
      for (const [err] of res) if (err) throw err;
      return res.slice(0, writes.length).map(([, v]) => (v as number[])[0] === 1);
    },

    /**
     * The upserts of `writes` as commands, for a caller that sends them in a transaction of
     * its own with other writes (the API's submit: BullMQ job and record in one MULTI).
     */
    upsertCommands(writes: readonly RecordWrite[]): RoutedCommand[] {
      return writes.map(upsertCommand);
    },

    /**
     * `failed` -> `queued` for a manual retry, with a `retrying` event, atomically; see
     * lua/reopen.ts. The version is that of "queued for `attempt`", so the next attempt's
     * writes (attempt + 1 phases) go through and the failed one's are stale.
     */
    async reopen(w: ReopenWrite): Promise<ReopenOutcome> {
      const event = encodeEvent({ event: 'retrying', state: 'queued', at: new Date().toISOString(), attempt: w.attempt });
      const version = recordVersion(w.attempt, 'queued');
      const r = await redis.ajReopen(keys.record(w.id), keys.eventLog(w.id), version, keys.eventsChannel, event, eventLogMax, w.id, w.type);
      return r === 1 ? 'reopened' : r === -1 ? 'ahead' : 'not_failed';
    },

    /** The record a terminal event carried (JobEvent.record), or null when it carried none. */
    fromEvent(e: Pick<JobEvent, 'id' | 'record'>): JobRecord | null {
      return e.record?.state ? decode(e.record, e.id) : null;
    },

    async read(id: string): Promise<JobRecord | null> {
      const h = await redis.hgetall(keys.record(id));
      return h.state ? decode(h, id) : null;
    },

    /** Many records in one round trip (one per node on a Cluster), in the order of `ids`; null where there is none. */
    async readMany(ids: readonly string[]): Promise<(JobRecord | null)[]> {
      if (ids.length === 0) return [];
      const res = await execRouted(
        redis,
        ids.map((id): RoutedCommand => ({ key: keys.record(id), queue: (pipe) => void pipe.hgetall(keys.record(id)) })),
      );
      return res.map(([err, h], i) => {
        if (err) throw err;
        const hash = h as Record<string, string>;
        return hash.state ? decode(hash, ids[i]) : null;
      });
    },

    /** Events of job `id` recorded after position `afterSeq` (exclusive; '0' for all), oldest first. */
    async eventsSince(id: string, afterSeq: string): Promise<JobEvent[]> {
      const after = Number(afterSeq);
      // One round trip (same slot): the log's entries leave out the id and type, the record has the type.
      const [[e1, type], [e2, entries]] = (await redis.pipeline().hget(keys.record(id), 'type').lrange(keys.eventLog(id), 0, -1).exec())!;
      if (e1 || e2) throw e1 ?? e2;
      return (entries as string[])
        .map((raw) => ({ ...(JSON.parse(raw) as Omit<JobEvent, 'id' | 'type'>), id, type: (type as string | null) ?? '' }))
        .filter((e) => Number(e.seq) > after);
    },

    /** Position of the newest recorded event of job `id`, or '0' when there is none. */
    async lastEventSeq(id: string): Promise<string> {
      return (await redis.hget(keys.record(id), 'seq')) ?? '0';
    },

    /**
     * Updates the callback delivery state of a record that still exists; a terminal
     * record is otherwise final, and an expired one is not brought back.
     */
    async setCallback(id: string, info: CallbackInfo): Promise<void> {
      await redis.ajSetIfExists(keys.record(id), 'callback', JSON.stringify(info));
    },

    /** For an id with no record: did it exist once (its record expired) or never? */
    async wasKnown(id: string): Promise<boolean> {
      return (await redis.exists(keys.tombstone(id))) === 1;
    },
  };
}
