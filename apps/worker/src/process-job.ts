import { Backoffs, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { JobCancelledError, type Config, type JobPayload, type JobTypeDefinition, type Logger, type RecordWrite, type ResultsStore } from '@async-jobs/shared';
import { attemptSignal, whenAborted, type AttemptSignal } from './attempt-signal';
import { asError, CancelledError, errorInfo, InvalidInputError } from './errors';
import type { JobHandler } from './handlers/handler';
import { deferWrite, type DeferredWrite } from './deferred-write';
import { createJobContext } from './job-context';
import { checkResult } from './job-result';
import { activeWrite, cancelledWrite, completedWrite, failedWrite, retryingWrite, type AttemptInfo } from './record-writes';

export interface ProcessorDeps {
  type: string;
  handler: JobHandler;
  /** The shared definition whose schema validates the input; absent only for test doubles. */
  definition?: JobTypeDefinition;
  store: ResultsStore;
  config: Config;
  logger: Logger;
  /** Aborted when the worker starts to shut down: a job fetched after that is handed back, not run. */
  draining: AbortSignal;
  /** Called once a terminal outcome is recorded (completion callbacks); `outcome` names it uniquely per job. */
  afterOutcome?: (job: Job<JobPayload>, outcome: string) => Promise<void>;
  /** Aborted after a forced shutdown: running attempts are abandoned to stall recovery, and record nothing. */
  shutdown: AbortSignal;
  /**
   * True when the store writes on BullMQ's own connection to one Redis: the `completed`
   * write is then sent and not awaited, and BullMQ's completion follows it on the same
   * socket, so Redis applies it first and the two share one round trip.
   */
  pipelineOutcome?: boolean;
}

export type JobProcessor = (job: Job<JobPayload>, token: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>;

function validate(definition: JobTypeDefinition | undefined, data: JobPayload | undefined): unknown {
  if (typeof data !== 'object' || data === null || !('input' in data)) throw new InvalidInputError('job data has no "input"');
  const { timeout } = data;
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) throw new InvalidInputError('timeout must be a positive integer (ms)');
  if (!definition) return data.input;
  const parsed = definition.input.safeParse(data.input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`);
  throw new InvalidInputError(`invalid input for ${definition.name}: ${problems.join('; ')}`);
}

const isUnrecoverable = (err: Error) => err instanceof UnrecoverableError || err.name === 'UnrecoverableError';

/** Whether BullMQ will wait before the next attempt (then the job is `delayed`, else `queued`). */
function retryIsDelayed(job: Job): boolean {
  const backoff = job.opts.backoff === undefined ? undefined : Backoffs.normalize(job.opts.backoff);
  if (!backoff) return false;
  return backoff.delay === undefined ? true : backoff.delay > 0;
}

/**
 * BullMQ's processor for one queue: validate, record `active` (deferred, see
 * deferred-write.ts), run the handler under the attempt's signal, check the result,
 * record the outcome, and rethrow failures so that BullMQ applies its own retry and backoff.
 */
export function createProcessor(deps: ProcessorDeps): JobProcessor {
  const { type, handler, store, config, logger } = deps;

  // The outcome, with the attempt's `active` write ahead of it in the same call when that has
  // not gone out yet (see deferred-write.ts): marked as belonging to a finished attempt, so a
  // pending cancel leaves the decision to the outcome that follows it.
  const outcome = (started: DeferredWrite | undefined, w: RecordWrite) => {
    const first = started?.take();
    return first ? store.applySteps([{ ...first, attemptFinished: true }, w]) : store.apply(w);
  };
  // Outcome writes must not hide the job's own error: a failed write is logged.
  const write = async (started: DeferredWrite | undefined, w: RecordWrite) => {
    try {
      await outcome(started, w);
    } catch (err) {
      logger.error({ jobId: w.id, type, state: w.state, err: (err as Error).message }, 'could not write job record');
    }
  };

  // Three declared parameters: BullMQ only creates the per-job AbortSignal for a processor whose length is 3.
  return async function processJob(job: Job<JobPayload>, token: string | undefined, bullSignal: AbortSignal | undefined) {
    if (deps.draining.aborted) {
      // A fetch that was already waiting in Redis can still return a job after pause(); put it back
      // at the head of its queue for another worker. WaitingError tells BullMQ the job was moved.
      await job.moveToWait(token).catch((err: Error) => logger.warn({ jobId: job.id, err: err.message }, 'could not hand a job back'));
      throw new WaitingError();
    }
    const info: AttemptInfo = {
      id: job.id as string,
      type,
      attempt: job.attemptsMade + 1,
      max: job.opts.attempts ?? 1,
      submittedAt: new Date(job.timestamp).toISOString(),
    };
    const log = { jobId: info.id, type, attempt: info.attempt };
    const startMs = Date.now();
    let timing: AttemptSignal | undefined;
    let started: DeferredWrite | undefined;
    let settle = async () => {};
    try {
      const input = validate(deps.definition, job.data);
      const attempt = (timing = attemptSignal(job.data.timeout, bullSignal, deps.shutdown));
      // Refused because a cancel is pending: the attempt stops as if it had never started.
      started = deferWrite(store, activeWrite(info, new Date(job.processedOn ?? startMs).toISOString()), (err) =>
        attempt.abort(err instanceof JobCancelledError ? new CancelledError('cancelled by request') : asError(err)),
      );
      logger.debug(log, 'job started');
      const context = createJobContext({ job, type, attempt: info.attempt, signal: attempt.signal, store, config, logger, beforeWrite: started.flush });
      settle = context.settle;
      const raw = await Promise.race([Promise.resolve().then(() => handler.run(input, context.ctx)), whenAborted(attempt.signal)]);
      const result = checkResult(raw, config.MAX_RESULT_BYTES);
      await settle();
      const written = outcome(started, completedWrite(info, result));
      // Commands on one connection run in order, so the record is terminal before BullMQ marks
      // the job done; an error reply to this script alone (not a lost connection: those are
      // resent) would leave the record behind, hence the log line.
      if (deps.pipelineOutcome) written.catch((err: Error) => logger.error({ ...log, err: err.message }, 'could not write job record'));
      else await written;
      logger.info({ ...log, durationMs: Date.now() - startMs }, 'job completed');
      await deps.afterOutcome?.(job, 'completed');
      return result;
    } catch (thrown) {
      // Once the signal fired, its reason (timeout, cancel) says more than what the handler threw on the way out.
      const err =
        thrown instanceof JobCancelledError
          ? new CancelledError('cancelled by request')
          : asError(timing?.signal.aborted ? timing.signal.reason : thrown);
      await settle();
      if (deps.shutdown.aborted) {
        started?.take();
        logger.warn(log, 'job attempt abandoned by a forced shutdown; another worker will pick it up');
        throw err;
      }
      const error = errorInfo(err);
      if (err instanceof CancelledError) {
        await write(started, cancelledWrite(info));
        logger.info(log, 'job cancelled');
        await deps.afterOutcome?.(job, 'cancelled');
      } else if (!isUnrecoverable(err) && info.attempt < info.max) {
        await write(started, retryingWrite(info, error, retryIsDelayed(job)));
        logger.warn({ ...log, err: error, durationMs: Date.now() - startMs }, 'job attempt failed; it will be retried');
      } else {
        await write(started, failedWrite(info, error));
        logger.warn({ ...log, err: error, durationMs: Date.now() - startMs }, 'job failed');
        await deps.afterOutcome?.(job, `failed-${info.attempt}`);
      }
      throw err;
    } finally {
      timing?.dispose();
    }
  };
}
