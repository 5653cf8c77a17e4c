import type { ChildResult, Config } from '@async-jobs/shared';

/** What a handler gets besides its input; one per attempt. */
export interface HandlerContext {
  jobId: string;
  /** 1-based number of this attempt. */
  attempt: number;
  /** Aborts on the job's per-attempt `timeout`, on cancellation, on a forced shutdown and when this worker lost the job's lock; stop work at once. */
  signal: AbortSignal;
  /** Reports progress: a number 0–100 or a JSON object. Never rejects. */
  progress(p: number | Record<string, unknown>): Promise<void>;
  /**
   * Adds a line to the job's log (BullMQ's `job.log`; the newest 1000 are kept) and to the
   * worker's log. A line over 2 KB (UTF-8) is cut to 2 KB, marked as cut. Never rejects.
   */
  log(message: string): Promise<void>;
  /** The worker's configuration, for handlers that need limits or allowlists. */
  config: Config;
  /** A flow's parent: its children's outcomes, in the order the flow gave them; [] for other jobs. */
  childResults: ChildResult[];
}

/**
 * The behaviour of one job type. `data` is the input after validation with the
 * type's shared schema (defaults applied). The result must be JSON.
 */
export interface JobHandler<Input = unknown, Result = unknown> {
  name: string;
  run(data: Input, ctx: HandlerContext): Promise<Result> | Result;
}
