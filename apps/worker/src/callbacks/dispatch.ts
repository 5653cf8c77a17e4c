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
import { track, waitForIdle, type InFlight } from '../in-flight';

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
  const sending: InFlight = new Set();
  const worker = new Worker<CallbackPayload>(CALLBACK_QUEUE, (job) => track(sending, deliverer.deliver(job)), {
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
        // BullMQ's own close() waits for its blocking connection's end, which never comes when
        // Redis is away (the connection is then between reconnects): so stop fetching, wait
        // for the deliveries under way (each bounded by CALLBACK_TIMEOUT_MS), and force.
        await worker.pause(true);
        await waitForIdle(sending, config.CALLBACK_TIMEOUT_MS + 1000);
        await worker.close(true);
        await deliverer.close();
      })()),
  };
}
