import type { Config } from '@async-jobs/shared';
import type { ListenerFactory } from '../listener';
import { createListListener } from './list-listener';
import { createPubsubListener } from './pubsub-listener';

export { createListListener, createPubsubListener };
export type { SeedListener } from './seed-listener';

/** The seed listeners this configuration turns on (LIST_LISTENER, PUBSUB_LISTENER; both on by default). */
export function seedListeners(config: Config): ListenerFactory[] {
  const out: ListenerFactory[] = [];
  if (config.LIST_LISTENER) out.push((ctx) => createListListener(ctx));
  if (config.PUBSUB_LISTENER) out.push(createPubsubListener);
  return out;
}
