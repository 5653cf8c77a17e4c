import { closeRedis, createRedis, parseControl, type Config, type Keyspace, type Logger } from '@async-jobs/shared';

export interface ControlListener {
  ready: Promise<void>;
  /** True when a cancel of `id` arrived lately; an attempt that starts then is cancelled at once. */
  cancelRequested(id: string): boolean;
  close(): Promise<void>;
}

/**
 * A cancel whose job this worker did not hold when it arrived is remembered this long:
 * BullMQ refuses to remove a job a worker has just fetched, and the API then asks every
 * worker to cancel it, possibly before the worker that fetched it has started it.
 */
const REMEMBER_MS = 60_000;

/**
 * Hears "cancel job X" on the control channel, broadcast to every worker process, and
 * aborts the attempt if this process holds it (`cancel` says whether it did).
 */
export function createControlListener(config: Config, keys: Keyspace, cancel: (type: string, id: string) => boolean, logger: Logger): ControlListener {
  const log = logger.child({ listener: 'control' });
  const redis = createRedis(config, 'subscriber', log, 'worker-control');
  const recent = new Map<string, number>();
  redis.on('message', (channel: string, raw: string) => {
    if (channel !== keys.controlChannel) return;
    const msg = parseControl(raw);
    if (!msg) return;
    if (cancel(msg.type, msg.id)) log.info({ jobId: msg.id }, 'cancelling running job');
    else recent.set(msg.id, Date.now() + REMEMBER_MS);
    // Forget old requests as new ones come; few ever pile up.
    if (recent.size > 1000) for (const [id, until] of recent) if (until < Date.now()) recent.delete(id);
  });
  const ready = redis.subscribe(keys.controlChannel).then(
    () => undefined,
    (err: Error) => log.warn({ err: err.message }, 'control channel subscribe failed'),
  );
  let closing: Promise<void> | undefined;
  return {
    ready,
    cancelRequested(id) {
      if (recent.size === 0) return false;
      const until = recent.get(id);
      if (until === undefined) return false;
      recent.delete(id);
      return until >= Date.now();
    },
    close: () => (closing ??= closeRedis(redis)),
  };
}
