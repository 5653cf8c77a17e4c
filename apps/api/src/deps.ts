import type { Config, JobQueue, Keyspace, Logger, RedisClient, ResultsStore } from '@async-jobs/shared';
import type { Queue } from 'bullmq';
import type { Metrics } from './metrics/registry';
import type { Notifier } from './events/notifier';
import type { OwnJobs } from './events/own-jobs';
import type { Relay } from './events/relay';
import type { StreamResumes } from './events/stream-resume';

/** What every route may use; built once by createApp from the injected connection. */
export interface AppContext {
  config: Config;
  keys: Keyspace;
  /** Everything but BullMQ's queues, submits included: its pipelines carry few scripts (AppDeps). */
  redis: RedisClient;
  /** BullMQ's: the queues' connection, for transactions that run BullMQ's scripts (flows). */
  queueRedis: RedisClient;
  logger: Logger;
  store: ResultsStore;
  /** Every queue of every job type by queue name; a job's is `queues.get(keys.queueOf(type, id))`. */
  queues: Map<string, JobQueue>;
  /** Deliveries of completion callbacks (docs/http-api.md, "Completion callbacks"). */
  callbackQueue: Queue;
  notifier: Notifier;
  /** Relays BullMQ's events to jobs:events and callbacks, once across all API processes. */
  relay: Relay;
  /** The jobs this process submitted and has not seen end: the relay need not ask Redis about them (absent in tools that only submit). */
  ownJobs?: OwnJobs;
  /** Prometheus registry of this app instance, and the hooks that feed it. */
  metrics: Metrics;
  /** Reads for event-stream resumes, shared by those of one queue that come close together. */
  resumes: StreamResumes;
}
