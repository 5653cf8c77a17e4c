import type { RecordWrite, ResultsStore } from '@async-jobs/shared';

export interface DeferredWrite {
  /** Sends the write now unless it has gone already: any other write of the attempt must follow it. */
  flush(): void;
  /** The write if it has not been sent, for the caller to send together with the attempt's outcome. */
  take(): RecordWrite | null;
}

/**
 * An attempt's `active` write, sent at the end of the current event-loop turn instead of
 * being awaited before the handler starts. A handler that is done within that turn (most
 * short jobs) has it go out with its outcome in one script call: one round trip and one
 * script per job instead of two, both events still published, in order. For a handler
 * still running by then it is sent on its own; a refusal (a cancel is pending) or an error
 * goes to `onError`, which aborts the attempt as a refusal before the start would have.
 */
export function deferWrite(store: ResultsStore, write: RecordWrite, onError: (err: unknown) => void): DeferredWrite {
  let pending: RecordWrite | null = write;
  const take = () => {
    const w = pending;
    pending = null;
    clearImmediate(timer);
    return w;
  };
  const flush = () => {
    const w = take();
    if (w) store.apply(w).catch(onError);
  };
  const timer = setImmediate(flush);
  return { flush, take };
}
