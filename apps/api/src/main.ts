import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  closeRedis,
  ConfigError,
  createLogger,
  createRedis,
  describeRedis,
  insecureReason,
  loadConfig,
  onShutdownSignal,
  tellLauncher,
  type Config,
} from '@async-jobs/shared';
import { createApp } from './app';
import { answerClientErrors } from './client-errors';
import { listen } from './http-server';
import { listenFailure } from './listen-failure';

function load(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

const config = load();
const logger = createLogger('api', config.LOG_LEVEL);
const insecure = insecureReason(config);
if (insecure) {
  // A plain line on stderr, as for every other setting that stops the start.
  console.error(`refusing to start: ${insecure}`);
  process.exit(2);
}

const redis = createRedis(config, 'command', logger, 'api');
const queueRedis = createRedis(config, 'command', logger, 'api-queues');
const subscriber = createRedis(config, 'subscriber', logger, 'api-events');
const { app, context, drain, close } = createApp({ config, redis, queueRedis, subscriber, logger });
const server = listen(app, config.PORT, config.HOST);
answerClientErrors(server);
try {
  await once(server, 'listening');
} catch (err) {
  // A port in use is the user's to fix, in plain words, not a stack trace.
  process.stderr.write(`${listenFailure(err as NodeJS.ErrnoException, config)}\n`);
  process.exit(1);
}
const { port } = server.address() as AddressInfo;
logger.info({ host: config.HOST, port, redis: describeRedis(config) }, 'api listening');
tellLauncher({ event: 'api listening', host: config.HOST, port });

onShutdownSignal(logger, config.SHUTDOWN_GRACE_MS, async (signal) => {
  logger.info({ signal }, 'api shutting down');
  drain();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Long-polls answer and streams end now (clients resume elsewhere); other requests get the grace period.
  await context.notifier.close();
  // Event streams ended above on kept-alive sockets: once their last bytes are out, those are idle too.
  setImmediate(() => server.closeIdleConnections());
  const timer = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_GRACE_MS);
  await closed;
  clearTimeout(timer);
  await close();
  await Promise.allSettled([closeRedis(subscriber), closeRedis(queueRedis), closeRedis(redis)]);
  logger.info('api stopped');
});
