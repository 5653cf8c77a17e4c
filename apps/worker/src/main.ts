import {
  closeRedis,
  ConfigError,
  createLogger,
  createRedis,
  describeRedis,
  loadConfig,
  onShutdownSignal,
  tellLauncher,
  type Config,
} from '@async-jobs/shared';
import { seedListeners } from '@async-jobs/seed';
import { handlers } from './handlers/index';
import { servedTypes } from './served-types';
import { createWorker } from './worker';

function configOrExit(): { config: Config; types: string[] } {
  try {
    const config = loadConfig();
    return { config, types: servedTypes(config, handlers) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

const { config, types } = configOrExit();
const logger = createLogger('worker', config.LOG_LEVEL);

// A handler's stray promise or callback must not take down the other jobs this process runs.
process.on('unhandledRejection', (reason) => {
  logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
});
process.on('uncaughtException', (err) => {
  logger.error({ err: err.message }, 'uncaught exception');
});

const connection = createRedis(config, 'blocking', logger, 'worker-bullmq');
const redis = createRedis(config, 'blocking', logger, 'worker-store');
// The seed article's list (BLPOP) and pub/sub listeners; LIST_LISTENER / PUBSUB_LISTENER turn them off.
const worker = createWorker({ config, connection, redis, logger, handlers, listeners: seedListeners(config) });

// Bounded: with Redis gone, closing would otherwise wait for it forever.
onShutdownSignal(logger, config.SHUTDOWN_GRACE_MS, async (signal) => {
  logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'worker shutting down');
  const { abandoned } = await worker.close();
  await Promise.allSettled([closeRedis(connection), closeRedis(redis)]);
  logger.info({ abandoned }, 'worker stopped');
  // Non-zero tells a process manager that work was cut short (it is not lost: another worker runs it).
  return abandoned > 0 ? 1 : 0;
});

await worker.ready();
logger.info(
  { types, concurrency: config.WORKER_CONCURRENCY, redis: describeRedis(config), namespace: config.KEY_NAMESPACE || undefined },
  'worker ready',
);
tellLauncher({ event: 'worker ready' });
