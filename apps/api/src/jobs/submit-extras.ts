import { encodeEvent, isCluster, defineScript, type Config, type JobRecord, type Keyspace, type QueueGroup, type RedisClient } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import { tombstoneFields, tombstoneTtl } from './job-build';
import { indexCutoff, indexHorizonMs, indexMember } from './job-index';
import type { Submission } from './validate-submission';

type ExtrasCommander = ChainableCommander & { ajSubmitExtras(...keysAndArgs: (string | number)[]): ChainableCommander };

/** Makes `ajSubmitExtras` known to `redis` (and so to the transactions made from it). */
export function defineSubmitExtras(redis: RedisClient): void {
  defineScript(redis, 'ajSubmitExtras', 'submit-extras');
}

export interface SubmittedJob {
  sub: Submission;
  view: JobRecord;
  timestamp: number;
  /** Its place in the submit's order (job-index.ts reserveOrder), taken with the submit's `ms`. */
  seq: number;
}

/**
 * Queues on `tx` (the submit's transaction, after BullMQ's adds) everything of ours that
 * goes with the jobs: tombstones, callback-due entries, an entry in each job's type index,
 * and the `submitted` events; one script call for the lot (submit-extras.lua). `jobs` are
 * all of queue group `group`, whose indexes they go to: a script's keys must share one slot on a
 * Cluster, so a submit spanning groups calls this once per group.
 */
export function submitExtrasWrites(
  tx: ChainableCommander,
  redis: RedisClient,
  keys: Keyspace,
  config: Config,
  group: QueueGroup,
  jobs: SubmittedJob[],
  ms: number,
): void {
  const tombs: string[] = [];
  const typeIndexes: string[] = [];
  const perJob: (string | number)[] = [];
  for (const { sub, view, timestamp, seq } of jobs) {
    tombs.push(keys.tombstone(sub.type, view.id));
    // Its KEYS position: after the callbacks-due set and every tombstone.
    const typeIndex = keys.typeIndex(group, sub.type);
    let at = typeIndexes.indexOf(typeIndex);
    if (at < 0) at = typeIndexes.push(typeIndex) - 1;
    const ttl = tombstoneTtl(sub, config);
    const fields = tombstoneFields(sub, timestamp);
    perJob.push(
      2 + jobs.length + at,
      indexMember({ id: view.id, type: sub.type, ms, seq }),
      ttl,
      sub.options.callbackUrl ? timestamp + ttl * 1000 : '',
      encodeEvent({ event: 'submitted', id: view.id, type: view.type, at: view.submittedAt!, state: view.state }),
      fields.length / 2,
      ...fields,
    );
  }
  const keyList = [keys.callbacksDue(group), ...tombs, ...typeIndexes];
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
