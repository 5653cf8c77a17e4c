import type { Config } from '@async-jobs/shared';
import { createListListener } from './list-listener';
import { createPubsubListener } from './pubsub-listener';
import type { SeedListener, SeedListenerContext } from './seed-listener';

export { createListListener, createPubsubListener };
export type { ListListenerOptions } from './list-listener';
export type { SeedListener, SeedListenerContext } from './seed-listener';

/** Starts one seed listener; the shape of the worker's ListenerFactory. */
export type SeedListenerFactory = (ctx: SeedListenerContext) => SeedListener;

/** The seed listeners this configuration turns on (LIST_LISTENER, PUBSUB_LISTENER; both on by default). */
export function seedListeners(config: Config): SeedListenerFactory[] {
  const out: SeedListenerFactory[] = [];
  if (config.LIST_LISTENER) out.push((ctx) => createListListener(ctx));
  if (config.PUBSUB_LISTENER) out.push(createPubsubListener);
  return out;
}
