import type { Logger } from './logger';

/**
 * How long, after SHUTDOWN_GRACE_MS, closing may still take (BullMQ's workers, queues,
 * Redis connections: well under a second when Redis answers) before it is abandoned.
 */
export const CLOSE_ALLOWANCE_MS = 2000;

/** A SIGINT this long after the first is a person's second Ctrl-C, not the first passed on by npm. */
const AGAIN_AFTER_MS = 500;

/** A signal, or `launcher gone` when the process that started this one (scripts/start.mjs) has ended. */
export type ShutdownReason = NodeJS.Signals | 'launcher gone';

/**
 * Runs `shutdown` once, on the first SIGTERM or SIGINT, or when the IPC channel to the
 * launcher that started this process closes (the launcher died without passing a signal
 * on). A second SIGINT at least AGAIN_AFTER_MS after the first (Ctrl-C pressed again: the
 * person does not want to wait) exits at once, 130, leaving running jobs to BullMQ's stall
 * recovery. Other repeats are logged and ignored: one Ctrl-C in a terminal reaches this
 * process both straight and through whatever started it (npm passes SIGINT on; our
 * launcher passes it on as SIGTERM), within milliseconds of each other.
 *
 * The process then exits with the code `shutdown` resolves to (0 when it resolves to
 * anything but a number; a worker says 1 when it had to abandon active jobs), 1 if it throws, and 1 at the latest
 * `graceMs` + CLOSE_ALLOWANCE_MS after the signal, whatever `shutdown` still waits on
 * (a Redis that is gone never answers a QUIT).
 */
export function onShutdownSignal(logger: Logger, graceMs: number, shutdown: (reason: ShutdownReason) => Promise<unknown>): void {
  let started = false;
  let firstSigint: number | null = null;
  const handle = (reason: ShutdownReason) => {
    if (started) {
      if (reason === 'SIGINT' && firstSigint !== null && Date.now() - firstSigint >= AGAIN_AFTER_MS) {
        logger.warn({ signal: reason }, 'interrupted again: exiting now, without waiting for the shutdown (running jobs are left to stall recovery)');
        process.exit(130);
      }
      if (reason === 'SIGINT') firstSigint ??= Date.now();
      logger.info({ signal: reason }, 'already shutting down');
      return;
    }
    if (reason === 'SIGINT') firstSigint = Date.now();
    started = true;
    const deadlineMs = graceMs + CLOSE_ALLOWANCE_MS;
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish within SHUTDOWN_GRACE_MS + 2 s; exiting without it');
      process.exit(1);
    }, deadlineMs);
    shutdown(reason).then(
      (code) => process.exit(typeof code === 'number' ? code : 0),
      (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  if (process.channel) {
    // The channel must not keep the process alive by itself; it only tells that the launcher is gone.
    process.channel.unref();
    process.once('disconnect', () => handle('launcher gone'));
  }
}
