import { Queue, Worker, type Job } from 'bullmq';
import {
  CALLBACK_QUEUE,
  enqueueCallback,
  type CallbackPayload,
  type Config,
  type JobPayload,
  type Keyspace,
  type Logger,
  type RedisClient,
  type ResultsStore,
} from '@async-jobs/shared';
import { workerOptions } from '../worker-options';
import { createDeliverer } from './deliver';

export interface CallbackDispatch {
  /** Queues the delivery when the job asked for one; never throws (logged instead). */
  afterOutcome(job: Job<JobPayload>, outcome: string): Promise<void>;
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The callbacks queue and its delivery worker, run by every worker process. */
export function createCallbackDispatch(config: Config, keys: Keyspace, connection: RedisClient, store: ResultsStore, logger: Logger): CallbackDispatch {
  const log = logger.child({ queue: CALLBACK_QUEUE });
  const queue = new Queue<CallbackPayload>(CALLBACK_QUEUE, { connection, prefix: keys.bullPrefix });
  queue.on('error', (err) => log.warn({ err: err.message }, 'callbacks queue error'));
  const deliverer = createDeliverer(config, store, log);
  const worker = new Worker<CallbackPayload>(CALLBACK_QUEUE, deliverer.deliver, workerOptions(config, keys, connection));
  worker.on('error', (err) => log.error({ err: err.message }, 'callbacks worker error'));
  let closing: Promise<void> | undefined;
  return {
    async afterOutcome(job, outcome) {
      const url = job.data.callbackUrl;
      if (!url || !job.id) return;
      try {
        await enqueueCallback(queue as Queue, config, job.id, url, outcome);
      } catch (err) {
        log.error({ jobId: job.id, err: (err as Error).message }, 'could not queue the completion callback');
      }
    },
    ready: () => worker.waitUntilReady().then(() => undefined),
    close: () =>
      (closing ??= (async () => {
        await Promise.allSettled([worker.close(), queue.close()]);
        await deliverer.close();
      })()),
  };
}
