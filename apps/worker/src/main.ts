import {
  closeRedis,
  ConfigError,
  createLogger,
  createRedis,
  describeRedis,
  loadConfig,
  onShutdownSignal,
  tellLauncher,
  workerInsecureReason,
  type Config,
} from '@async-jobs/shared';
import { seedListeners } from '@async-jobs/seed';
import { handlers } from './handlers/index';
import { servedTypes } from './served-types';
import { createWorkerMetrics } from './metrics/job-metrics';
import { serveMetrics, type MetricsServer } from './metrics/server';
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
const insecure = workerInsecureReason(config);
if (insecure) {
  process.stderr.write(`refusing to start: ${insecure}\n`);
  process.exit(2);
}
const logger = createLogger('worker', config.LOG_LEVEL);

// A handler's stray promise or callback must not take down the other jobs this process runs.
process.on('unhandledRejection', (reason) => {
  logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
});
process.on('uncaughtException', (err) => {
  logger.error({ err: err.message }, 'uncaught exception');
});

// Before any connection is opened: a port in use stops the worker with nothing to close.
const metrics = createWorkerMetrics();
let metricsServer: MetricsServer | undefined;
if (config.WORKER_METRICS_PORT !== undefined) {
  try {
    metricsServer = await serveMetrics(metrics.registry, { host: config.HOST, port: config.WORKER_METRICS_PORT, tokens: config.API_TOKENS });
  } catch (err) {
    // A port in use is the user's to fix, in plain words, not a stack trace.
    process.stderr.write(
      `Cannot serve the worker's metrics on ${config.HOST}:${config.WORKER_METRICS_PORT}: ${(err as Error).message}. Choose another WORKER_METRICS_PORT, or leave it unset.\n`,
    );
    process.exit(1);
  }
  logger.info({ host: config.HOST, port: metricsServer.port }, 'worker metrics listening');
}

const connection = createRedis(config, 'blocking', logger, 'worker-bullmq');
const redis = createRedis(config, 'blocking', logger, 'worker-store');
// The seed article's list (BLPOP) and pub/sub listeners; LIST_LISTENER / PUBSUB_LISTENER turn them off.
const worker = createWorker({ config, connection, redis, logger, handlers, metrics, listeners: seedListeners(config) });

// Bounded: with Redis gone, closing would otherwise wait for it forever.
onShutdownSignal(logger, config.SHUTDOWN_GRACE_MS, async (signal) => {
  logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'worker shutting down');
  // Still scraped while active jobs finish; closed with the rest.
  const { abandoned, unrecorded } = await worker.close();
  await Promise.allSettled([metricsServer?.close(), closeRedis(connection), closeRedis(redis)]);
  logger.info({ abandoned, unrecorded }, 'worker stopped');
  // Non-zero tells a process manager that work was cut short (it is not lost: another worker runs it).
  return abandoned + unrecorded > 0 ? 1 : 0;
});

await worker.ready();
logger.info(
  { id: worker.name, types, concurrency: config.WORKER_CONCURRENCY, redis: describeRedis(config), namespace: config.KEY_NAMESPACE || undefined },
  'worker ready',
);
tellLauncher({ event: 'worker ready' });
