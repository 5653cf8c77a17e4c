import type { Config, Keyspace, Logger, RedisClient } from '@async-jobs/shared';

/**
 * What a seed listener is given: the same fields as the worker's ListenerContext, so
 * createWorker({ listeners: seedListeners(config) }) starts them without an adapter.
 */
export interface SeedListenerContext {
  config: Config;
  keys: Keyspace;
  logger: Logger;
  /** The worker's command/blocking connection; each listener opens its own for BLPOP or SUBSCRIBE. */
  redis: RedisClient;
}

/** A seed listener (list or pub/sub): a worker Listener that also says how much it has taken in. */
export interface SeedListener {
  name: string;
  close(): Promise<void>;
  /** Elements or messages received so far. */
  readonly consumed: number;
  /** Resolves once the listener is waiting on Redis (first BLPOP sent, or SUBSCRIBE confirmed). */
  readonly ready: Promise<void>;
}

/** Log lines must stay short whatever someone pushed onto the list. */
export function preview(elem: string, max = 200): string {
  return elem.length > max ? `${elem.slice(0, max)}…` : elem;
}
