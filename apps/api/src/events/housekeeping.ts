import { execRouted, type Config, type Keyspace, type Logger, type RedisClient } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import { indexCutoff, memberId } from '../jobs/job-index';

/** How often the lease holder tidies up. */
const EVERY_MS = 60_000;
/** Index entries one look at an index takes. */
const PAGE = 1000;
/** Pages of one index a round looks at, at most: 60,000 entries a minute, a thousand jobs a second of one type. */
const PAGES_PER_ROUND = 60;

export interface HousekeepingDeps {
  config: Pick<Config, 'RESULT_TTL_SECONDS' | 'TOMBSTONE_TTL_SECONDS'>;
  keys: Keyspace;
  redis: RedisClient;
  types: readonly string[];
  logger: Logger;
}

/**
 * What only one process need do, and no request or job does in passing: run by the relay's
 * lease holder, at most once a minute. A failure is logged and left for the next round
 * (nothing here is a reason to doubt the lease).
 */
export function createHousekeeping(deps: HousekeepingDeps): {
  /** Starts a round when one is due; resolves when the latest round (running or done) has ended. Never rejects. */
  due(): Promise<void>;
} {
  const { keys, redis } = deps;
  let lastRound = 0;
  /** Per index, where a round cut short by PAGES_PER_ROUND stopped: the next one goes on after it. */
  const resumeAfter = new Map<string, string>();

  /**
   * Callbacks-due entries are scored with their tombstone's end, past which the job, and any
   * callback it could be due, is gone. An entry normally goes when its callback is handed over
   * (relay-callbacks.ts); one whose ending was never read stays. Submits of callback jobs drop such entries too, but while
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
   * left are dropped here, page by page from the oldest, up to PAGES_PER_ROUND pages per index
   * and round (a delayed job's entry stays). A round cut short by that bound leaves the next
   * one to go on from where it stopped; one that reached the cutoff, to start again.
   */
  async function sweepIndex(key: string, type: string, cutoff: string): Promise<void> {
    let after = resumeAfter.get(key);
    resumeAfter.delete(key);
    for (let page = 0; page < PAGES_PER_ROUND; page++) {
      const members = await redis.zrangebylex(key, after ? `(${after}` : '-', cutoff, 'LIMIT', 0, PAGE);
      const entries = members.flatMap((member) => {
        const id = memberId(member);
        return id === null ? [] : [{ member, id }];
      });
      // Each job's hash and tombstone share its queue's slot, as the index does.
      const found = await execRouted(
        redis,
        entries.map(({ id }) => ({
          key: keys.job(type, id),
          queue: (pipe: ChainableCommander) => void pipe.exists(keys.job(type, id), keys.tombstone(type, id)),
        })),
      );
      const dead = entries.filter((_, i) => {
        const [err, count] = found[i];
        if (err) throw err;
        return count === 0;
      });
      if (dead.length > 0) await redis.zrem(key, ...dead.map((e) => e.member));
      if (members.length < PAGE) return;
      after = members[members.length - 1];
    }
    resumeAfter.set(key, after!);
  }

  async function sweepIndexes(now: number): Promise<void> {
    const cutoff = indexCutoff((deps.config.RESULT_TTL_SECONDS + deps.config.TOMBSTONE_TTL_SECONDS) * 1000, now);
    for (const type of deps.types) {
      for (const group of keys.layout.groupsOf([type])) await sweepIndex(keys.typeIndex(group, type), type, cutoff);
    }
  }

  let round: Promise<void> = Promise.resolve();
  return {
    due() {
      const now = Date.now();
      if (now - lastRound >= EVERY_MS) {
        lastRound = now;
        round = Promise.allSettled([pruneCallbacksDue(now), sweepIndexes(now)]).then(([pruned, swept]) => {
          // Tried again next round; said once a round at most.
          if (pruned.status === 'rejected') deps.logger.warn({ err: (pruned.reason as Error).message }, 'could not drop stale callbacks-due entries');
          if (swept.status === 'rejected') deps.logger.warn({ err: (swept.reason as Error).message }, 'could not sweep the list indexes');
        });
      }
      return round;
    },
  };
}
