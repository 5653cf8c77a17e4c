import { closeRedis, createRedis, parseControl, type Config, type Keyspace, type Logger } from '@async-jobs/shared';
import type { Worker } from 'bullmq';

export interface ControlListener {
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Hears "cancel job X" on the control channel, broadcast to every worker process, and
 * aborts the attempt if this process holds it (BullMQ's cancelJob fires the
 * processor's AbortSignal). A job that starts after the request is stopped by the
 * store's cancel flag instead, so a cancel that arrives between fetch and start is not lost.
 */
export function createControlListener(config: Config, keys: Keyspace, workers: Map<string, Worker>, logger: Logger): ControlListener {
  const log = logger.child({ listener: 'control' });
  const redis = createRedis(config, 'subscriber', log, 'worker-control');
  redis.on('message', (channel: string, raw: string) => {
    if (channel !== keys.controlChannel) return;
    const msg = parseControl(raw);
    if (!msg) return;
    if (workers.get(msg.type)?.cancelJob(msg.id, 'cancelled by request')) log.info({ jobId: msg.id }, 'cancelling running job');
  });
  const ready = redis.subscribe(keys.controlChannel).then(
    () => undefined,
    (err: Error) => log.warn({ err: err.message }, 'control channel subscribe failed'),
  );
  let closing: Promise<void> | undefined;
  return { ready, close: () => (closing ??= closeRedis(redis)) };
}
