import { execRouted, type Config, type Keyspace, type RedisClient } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import { indexCutoff, memberId } from '../jobs/job-index';

/** How often the lease holder tidies up. */
const EVERY_MS = 60_000;
/** Index entries one index's sweep looks at, at most, per round. */
const SWEEP_LIMIT = 1000;

export interface HousekeepingDeps {
  config: Pick<Config, 'RESULT_TTL_SECONDS' | 'TOMBSTONE_TTL_SECONDS'>;
  keys: Keyspace;
  redis: RedisClient;
  types: readonly string[];
}

/**
 * What only one process need do, and no request or job does in passing: run by the relay's
 * lease holder, at most once a minute. A failure is left for the next round (nothing here
 * is a reason to doubt the lease).
 */
export function createHousekeeping(deps: HousekeepingDeps): {
  /** Starts a round when one is due; resolves when the latest round (running or done) has ended. Never rejects. */
  due(): Promise<void>;
} {
  const { keys, redis } = deps;
  let lastRound = 0;
  /** Per index, the last entry a round found still live: the next round goes on after it. */
  const resumeAfter = new Map<string, string>();

  /**
   * Callbacks-due entries are scored with their tombstone's end, past which the job, and any
   * callback it could be due, is gone. Submits of callback jobs drop such entries too, but while
   * none come the set would keep them, and its size alone keeps the relay reading at its faster
   * pace (relay-probe.ts) and the gap sweep walking them.
   */
  async function pruneCallbacksDue(now: number): Promise<void> {
    await execRouted(
      redis,
      keys.groups.map((g) => ({
        key: keys.callbacksDue(g),
        queue: (pipe: ChainableCommander) => void pipe.zremrangebyscore(keys.callbacksDue(g), '-inf', now),
      })),
    );
  }

  /**
   * A list index keeps an entry for 30 days and more (job-index.ts, for the longest delay),
   * but a job that was not delayed is gone for good once its tombstone lapses, RESULT_TTL +
   * TOMBSTONE_TTL after its submit; a listing drops such entries when it meets them, and
   * nobody may list. Entries older than that whose job has neither its hash nor its tombstone
   * left are dropped here, up to SWEEP_LIMIT per index and round; a delayed job's entry
   * stays, and the next round goes on after it.
   */
  async function sweepIndexes(now: number): Promise<void> {
    const cutoff = indexCutoff((deps.config.RESULT_TTL_SECONDS + deps.config.TOMBSTONE_TTL_SECONDS) * 1000, now);
    const sources = deps.types.flatMap((type) => keys.layout.groupsOf([type]).map((group) => ({ key: keys.typeIndex(group, type), type })));
    const listed = await execRouted(
      redis,
      sources.map((s) => {
        const after = resumeAfter.get(s.key);
        return { key: s.key, queue: (pipe: ChainableCommander) => void pipe.zrangebylex(s.key, after ? `(${after}` : '-', cutoff, 'LIMIT', 0, SWEEP_LIMIT) };
      }),
    );
    const entries = sources.flatMap((s, k) => {
      const [err, members] = listed[k];
      if (err) throw err;
      const got = members as string[];
      // A short page reached the cutoff: the next round starts from the oldest again.
      if (got.length < SWEEP_LIMIT) resumeAfter.delete(s.key);
      return got.flatMap((member) => {
        const id = memberId(member);
        return id === null ? [] : [{ ...s, member, id }];
      });
    });
    if (entries.length === 0) return;
    const found = await execRouted(
      redis,
      entries.map((e) => ({
        key: keys.job(e.type, e.id),
        queue: (pipe: ChainableCommander) => void pipe.exists(keys.job(e.type, e.id), keys.tombstone(e.type, e.id)),
      })),
    );
    const dead = new Map<string, string[]>();
    for (const [i, e] of entries.entries()) {
      const [err, count] = found[i];
      if (err) throw err;
      if (count === 0) dead.set(e.key, [...(dead.get(e.key) ?? []), e.member]);
      else resumeAfter.set(e.key, e.member);
    }
    await execRouted(
      redis,
      [...dead].map(([key, members]) => ({ key, queue: (pipe: ChainableCommander) => void pipe.zrem(key, ...members) })),
    );
  }

  let round: Promise<void> = Promise.resolve();
  return {
    due() {
      const now = Date.now();
      if (now - lastRound >= EVERY_MS) {
        lastRound = now;
        round = Promise.allSettled([pruneCallbacksDue(now), sweepIndexes(now)]).then(() => undefined);
      }
      return round;
    },
  };
}
