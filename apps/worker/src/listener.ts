import type { Config, Keyspace, Logger, RedisClient } from '@async-jobs/shared';

/**
 * Extension point for the seed listeners (the BLPOP list listener and the pub/sub
 * listener, in packages/seed), which are not part of the job pipeline. createWorker starts each
 * factory after the BullMQ workers and closes what it returns before them.
 */
export interface Listener {
  name: string;
  close(): Promise<void>;
}

export interface ListenerContext {
  config: Config;
  keys: Keyspace;
  logger: Logger;
  /** The worker's command/blocking connection for the results store; open your own for BLPOP or SUBSCRIBE. */
  redis: RedisClient;
}

export type ListenerFactory = (ctx: ListenerContext) => Listener;
