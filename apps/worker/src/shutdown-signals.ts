import type { Logger } from '@async-jobs/shared';

/**
 * Calls `shutdown` on the first SIGTERM or SIGINT; later signals are logged and
 * ignored, since the shutdown is already bounded by the grace period.
 */
export function onShutdownSignal(logger: Logger, shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    started = true;
    void shutdown(signal);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
