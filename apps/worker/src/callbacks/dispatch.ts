import { Worker } from 'bullmq';
import {
  CALLBACK_QUEUE,
  exitIfNoSuchDatabase,
  type CallbackPayload,
  type Config,
  type Keyspace,
  type Logger,
  type RedisClient,
  type ResultsStore,
} from '@async-jobs/shared';
import { workerOptions } from '../worker-options';
import { createDeliverer } from './deliver';

export interface CallbackDispatch {
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The delivery worker of the callbacks queue, run by every worker process. Deliveries are
 * queued by the API's relay when a job with a callbackUrl ends (apps/api/src/events/relay.ts),
 * whichever worker ran it.
 */
export function createCallbackDispatch(
  config: Config,
  keys: Keyspace,
  connection: RedisClient,
  store: ResultsStore,
  logger: Logger,
  name: string,
): CallbackDispatch {
  const log = logger.child({ queue: CALLBACK_QUEUE });
  const deliverer = createDeliverer(config, store, log);
  const worker = new Worker<CallbackPayload>(CALLBACK_QUEUE, deliverer.deliver, {
    ...workerOptions(config, keys, connection, CALLBACK_QUEUE, name),
    concurrency: config.CALLBACK_CONCURRENCY,
  });
  worker.on('error', (err) => {
    exitIfNoSuchDatabase(err, config.REDIS_URL);
    log.error({ err: err.message }, 'callbacks worker error');
  });
  let closing: Promise<void> | undefined;
  return {
    ready: () => worker.waitUntilReady().then(() => undefined),
    close: () =>
      (closing ??= (async () => {
        await worker.close();
        await deliverer.close();
      })()),
  };
}
