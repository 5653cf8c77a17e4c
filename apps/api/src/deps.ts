import type { Config, JobQueue, Keyspace, Logger, ResultsStore } from '@async-jobs/shared';
import type { Redis } from 'ioredis';

/** What every route may use; built once by createApp from the injected connection. */
export interface AppContext {
  config: Config;
  keys: Keyspace;
  redis: Redis;
  logger: Logger;
  store: ResultsStore;
  queues: Map<string, JobQueue>;
}
