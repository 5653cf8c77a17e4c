import { encodeEvent, isCluster, luaScript, type Config, type JobRecord, type Keyspace, type RedisClient } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import { tombstoneFields, tombstoneTtl } from './job-build';
import { indexCutoff, indexHorizonMs, indexMember, type IndexOrder } from './job-index';
import type { Submission } from './validate-submission';

type ExtrasCommander = ChainableCommander & { ajSubmitExtras(...keysAndArgs: (string | number)[]): ChainableCommander };

/** Makes `ajSubmitExtras` known to `redis` (and so to the transactions made from it). */
export function defineSubmitExtras(redis: RedisClient): void {
  if (typeof (redis as unknown as Record<string, unknown>).ajSubmitExtras !== 'function') {
    redis.defineCommand('ajSubmitExtras', { lua: luaScript('submit-extras') });
  }
}

export interface SubmittedJob {
  sub: Submission;
  view: JobRecord;
  timestamp: number;
}

/**
 * Queues on `tx` (the submit's transaction, after BullMQ's adds) everything of ours that
 * goes with the jobs: tombstones, callback-due entries, list-index entries from `first`
 * on, and the `submitted` events; one script call for the lot (submit-extras.lua).
 */
export function submitExtrasWrites(tx: ChainableCommander, redis: RedisClient, keys: Keyspace, config: Config, jobs: SubmittedJob[], first: IndexOrder): void {
  const tombs: string[] = [];
  const typeIndexes: string[] = [];
  const perJob: (string | number)[] = [];
  jobs.forEach(({ sub, view, timestamp }, i) => {
    tombs.push(keys.tombstone(sub.type, view.id));
    // Its KEYS position: after the two fixed keys and every tombstone.
    const typeIndex = keys.typeIndex(sub.type);
    let at = typeIndexes.indexOf(typeIndex);
    if (at < 0) at = typeIndexes.push(typeIndex) - 1;
    const ttl = tombstoneTtl(sub, config);
    const fields = tombstoneFields(sub, timestamp);
    perJob.push(
      3 + jobs.length + at,
      indexMember({ id: view.id, type: sub.type, ms: first.ms, seq: first.seq + i }),
      ttl,
      sub.options.callbackUrl ? timestamp + ttl * 1000 : '',
      encodeEvent({ event: 'submitted', id: view.id, type: view.type, at: view.submittedAt!, state: view.state }),
      fields.length / 2,
      ...fields,
    );
  });
  const keyList = [keys.jobIndex, keys.callbacksDue, ...tombs, ...typeIndexes];
  const alwaysPublish = isCluster(redis) ? '1' : '0';
  (tx as ExtrasCommander).ajSubmitExtras(
    keyList.length,
    ...keyList,
    keys.eventsChannel,
    indexCutoff(indexHorizonMs(config.RESULT_TTL_SECONDS)),
    Date.now(),
    alwaysPublish,
    ...perJob,
  );
}
