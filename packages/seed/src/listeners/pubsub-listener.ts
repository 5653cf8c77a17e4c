import { closeRedis, createRedis } from '@async-jobs/shared';
import { preview, type SeedListener, type SeedListenerContext } from './seed-listener';

/**
 * The article's publish-subscribe side: every worker subscribed to the seed channel
 * gets every message (fan-out). A message published while no one listens is gone;
 * that is pub/sub, not a bug. Runs on its own 'subscriber' connection, which
 * ioredis re-subscribes after a reconnect.
 */
export function createPubsubListener(ctx: SeedListenerContext): SeedListener {
  const channel = ctx.keys.pubsubChannel;
  const log = ctx.logger.child({ listener: 'pubsub' });
  const redis = createRedis(ctx.config, 'subscriber', log, 'pubsub-listener');
  let consumed = 0;

  redis.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    consumed++;
    log.info({ elem: preview(message) }, `Task get ${preview(message)}`);
  });

  const ready = redis.subscribe(channel).then(
    () => log.info({ channel }, 'pubsub listener subscribed'),
    // Only when closed before Redis answered; a Redis that is down is waited for.
    (err: Error) => log.warn({ err: err.message }, 'pubsub listener could not subscribe'),
  );

  let closing: Promise<void> | undefined;
  async function close() {
    await closeRedis(redis);
    log.info({ consumed }, 'pubsub listener stopped');
  }

  return {
    name: 'pubsub',
    get consumed() {
      return consumed;
    },
    ready,
    close: () => (closing ??= close()),
  };
}
