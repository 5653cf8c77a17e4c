import { createKeyspace, createQueues, createResultsStore, loadConfig, type JobQueue } from '@async-jobs/shared';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppContext } from '../../apps/api/src/deps';
import { submitBatch } from '../../apps/api/src/jobs/submit-batch';
import { checkSubmission, type Submission } from '../../apps/api/src/jobs/validate-submission';
import { baseJobOptions, BASE_QUEUE } from '../baselines/job-options';
import { NAMESPACE } from './ours';

const CHUNK = 1000;
export const echoData = (n: number) => ({ bench: true, n });

/** Our echo queue and a way to enqueue jobs exactly as POST /jobs/batch does (same code), minus HTTP. */
export function ourSubmitter(redis: Redis) {
  const config = loadConfig({ KEY_NAMESPACE: NAMESPACE });
  const keys = createKeyspace(NAMESPACE);
  const store = createResultsStore({ redis, keys, resultTtlSeconds: config.RESULT_TTL_SECONDS });
  const queues = createQueues(redis, keys, () => {}, ['echo']);
  // Only what submitBatch uses; it writes records, index entries and enqueues like the API.
  const ctx = { config, keys, redis, queueRedis: redis, store, queues, metrics: { jobSubmitted() {} } } as unknown as AppContext;
  const sub = (n: number): Submission => {
    const c = checkSubmission({ type: 'echo', data: echoData(n) }, [], config);
    if (!c.ok) throw c.error;
    return c.value;
  };
  return {
    keys,
    queue: queues.get('echo') as JobQueue,
    async prefill(n: number) {
      for (let i = 0; i < n; i += CHUNK)
        await submitBatch(
          ctx,
          Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => sub(i + j)),
        );
    },
    close: () => Promise.all([...queues.values()].map((q) => q.close())),
  };
}

/** The same jobs (data and options) on the baseline queue, with queue.addBulk. */
export async function prefillBaseline(queue: Queue, n: number): Promise<void> {
  for (let i = 0; i < n; i += CHUNK) {
    const jobs = Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => ({ name: BASE_QUEUE, data: echoData(i + j), opts: baseJobOptions() }));
    await queue.addBulk(jobs);
  }
}

/** Jobs not finished yet: waiting (also while paused), prioritized, delayed or active. */
export async function unfinished(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
  return Object.values(c).reduce((a, b) => a + b, 0);
}
