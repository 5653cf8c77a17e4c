import { CancelledError, TimeoutError } from './errors';

export interface AttemptSignal {
  signal: AbortSignal;
  /** Aborts the attempt for a reason found elsewhere (a refused record write); the first reason wins. */
  abort(reason: Error): void;
  /** Clears the timer; call when the attempt ends. */
  dispose(): void;
}

/**
 * One signal per attempt that aborts, with a reason that says why, on the first of:
 * the job's per-attempt timeout, BullMQ's own signal (fired by `worker.cancelJob`),
 * or the worker's shutdown signal (a forced shutdown past the grace period).
 */
export function attemptSignal(timeoutMs: number | undefined, bullSignal: AbortSignal | undefined, shutdown: AbortSignal): AttemptSignal {
  const controller = new AbortController();
  const abort = (reason: Error) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const timer = timeoutMs ? setTimeout(() => abort(new TimeoutError(timeoutMs)), timeoutMs) : undefined;
  const onCancel = () => abort(new CancelledError(`cancelled${typeof bullSignal?.reason === 'string' ? `: ${bullSignal.reason}` : ''}`));
  const onShutdown = () => abort(shutdown.reason instanceof Error ? shutdown.reason : new Error('worker shut down'));
  if (bullSignal?.aborted) onCancel();
  else bullSignal?.addEventListener('abort', onCancel, { once: true });
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener('abort', onShutdown, { once: true });
  return {
    signal: controller.signal,
    abort,
    dispose() {
      clearTimeout(timer);
      bullSignal?.removeEventListener('abort', onCancel);
      shutdown.removeEventListener('abort', onShutdown);
    },
  };
}

/** Rejects with the signal's reason when it aborts, so a handler that ignores its signal cannot hold the attempt. */
export function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
