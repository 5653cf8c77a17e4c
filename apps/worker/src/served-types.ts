import { ConfigError, type Config } from '@async-jobs/shared';
import type { JobHandler } from './handlers/handler';

/**
 * The job types this worker serves: WORKER_TYPES, or every type that has a
 * handler when it is empty. A name without a handler is a configuration error,
 * raised before anything connects, so a typo cannot leave a queue unserved.
 */
export function servedTypes(config: Config, handlers: ReadonlyMap<string, JobHandler>): string[] {
  if (config.WORKER_TYPES.length === 0) return [...handlers.keys()];
  const unknown = config.WORKER_TYPES.filter((t) => !handlers.has(t));
  if (unknown.length > 0) {
    const names = unknown.map((t) => `"${t}"`).join(', ');
    throw new ConfigError(`WORKER_TYPES: unknown job type ${names}; known types: ${[...handlers.keys()].join(', ')}`);
  }
  return [...new Set(config.WORKER_TYPES)];
}
