import { TimeoutError } from './errors';

/**
 * One attempt's abort, on the first of: the job's per-attempt timeout, a cancel (the
 * control channel, control-listener.ts) or a forced shutdown (worker.ts); the first
 * reason wins. Cheap when nothing aborts it, as for nearly every job: the AbortSignal a
 * handler sees is made only when the handler reads it, and a timer only runs when the
 * job has a timeout. (BullMQ's own per-job AbortController is not asked for: the
 * processor takes two parameters, and cancels come here instead of `worker.cancelJob`.)
 */
export class Attempt {
  /** Why the attempt was aborted; undefined while it runs on. */
  reason: Error | undefined;
  private controller: AbortController | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private onAbort: ((reason: Error) => void) | undefined;

  constructor(timeoutMs: number | undefined) {
    if (timeoutMs) this.timer = setTimeout(() => this.abort(new TimeoutError(timeoutMs)), timeoutMs);
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  /** The handler's signal: aborts with `reason`. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.onAbort?.(reason);
  }

  /** Settles as `work` does, or rejects with the reason once the attempt is aborted, so a handler that ignores its signal cannot hold the attempt. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.reason) return Promise.reject(this.reason);
    return new Promise<T>((resolve, reject) => {
      this.onAbort = reject;
      work.then(resolve, reject);
    });
  }

  /** Clears the timer; call when the attempt ends. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.onAbort = undefined;
  }
}

/** The attempts running in this process, per job type, by job id: where a cancel or a forced shutdown finds them. */
export type RunningAttempts = Map<string, Map<string, Attempt>>;
