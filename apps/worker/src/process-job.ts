import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Config, JobTypeDefinition, Logger } from '@async-jobs/shared';
import { Attempt } from './attempt';
import { asError, CancelledError, errorInfo, InvalidInputError, LockLostError } from './errors';
import type { JobHandler } from './handlers/handler';
import { childResultsOf, type StackReader } from './child-results';
import { createJobContext } from './job-context';
import { checkResult } from './job-result';

export interface ProcessorDeps {
  type: string;
  handler: JobHandler;
  /** The shared definition whose schema validates the input; absent only for test doubles. */
  definition?: JobTypeDefinition;
  config: Config;
  logger: Logger;
  /** Aborted when the worker starts to shut down: a job fetched after that is handed back, not run. */
  draining: AbortSignal;
  /** Aborted when the grace period is over: running attempts hand their jobs back to their queues. */
  shutdown: AbortSignal;
  /** This type's running attempts by job id: a cancel or a forced shutdown aborts them there. */
  running: Map<string, Attempt>;
  /** True when a cancel of job `id` was asked for before this worker held it (control-listener.ts). */
  cancelRequested(id: string): boolean;
  /** Whether the API noted a cancel of job `id` while a worker held it (its tombstone's `cr`); asked only at a retry's start. */
  cancelNoted?(id: string): Promise<boolean>;
  /** Reads children's stack traces, for the names of a flow parent's ignored child failures. */
  readStacks?: StackReader;
}

export type JobProcessor = (job: Job, token: string | undefined) => Promise<unknown>;

function validate(definition: JobTypeDefinition | undefined, data: unknown): unknown {
  if (!definition) return data;
  const parsed = definition.input.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(data)'}: ${i.message}`);
  throw new InvalidInputError(`invalid data for ${definition.name}: ${problems.join('; ')}`);
}

/**
 * The per-attempt timeout in `opts.asyncJobs`. A job from another producer may carry one
 * the API would have refused; running it would time out at once and retry for nothing.
 */
function timeoutOf(job: Job): number | undefined {
  const raw = (job.opts as { asyncJobs?: { timeoutMs?: unknown } }).asyncJobs?.timeoutMs;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw <= 0) throw new InvalidInputError('timeout must be a positive integer (ms)');
  return raw;
}

export const shutdownReason = (shutdown: AbortSignal) => (shutdown.reason instanceof Error ? shutdown.reason : new Error('worker shut down'));

/**
 * Whether this start follows an attempt that did not end the job: one that failed (BullMQ
 * keeps its `failedReason` until an operator's retry clears it) or stalled (started more
 * often than finished, counting this start). Such a start is where a cancel asked for
 * during that attempt must stop the job, if the API's relay has not removed it first.
 */
const startsAgain = (job: Job) => Boolean(job.failedReason) || job.attemptsStarted > job.attemptsMade + 1;

const isUnrecoverable = (err: Error) => err instanceof UnrecoverableError || err.name === 'UnrecoverableError';

/**
 * Puts a job this worker holds back at the head of its queue, for another worker; the caller
 * then throws WaitingError, which tells BullMQ the job was moved and to record nothing. One
 * that cannot be moved (Redis away) runs again after stall recovery. Whether it was moved.
 */
async function handBack(job: Job, token: string | undefined, logger: Logger): Promise<boolean> {
  try {
    await job.moveToWait(token);
    return true;
  } catch (err) {
    logger.warn({ jobId: job.id, err: (err as Error).message }, 'could not hand a job back; it will run again after stall recovery');
    return false;
  }
}

/**
 * BullMQ's processor for one queue: validate the data, run the handler under the
 * attempt's signal, check the result and return it. BullMQ records everything else
 * (state, attempts, progress, result, error) in its own scripts, as it would for any
 * worker; failures are rethrown so that its retry and backoff apply.
 */
export function createProcessor(deps: ProcessorDeps): JobProcessor {
  const { type, handler, config, logger } = deps;

  // Two declared parameters: BullMQ then makes no AbortController of its own per job (cancels come through `running`).
  return async function processJob(job: Job, token: string | undefined) {
    if (deps.draining.aborted) {
      // A fetch that was already waiting in Redis can still return a job after pause(); put it back
      // at the head of its queue for another worker. WaitingError tells BullMQ the job was moved.
      await handBack(job, token, logger);
      throw new WaitingError();
    }
    const id = job.id as string;
    const attempt = job.attemptsMade + 1;
    const startMs = Date.now();
    let run: Attempt | undefined;
    let settle: (() => Promise<void> | undefined) | undefined;
    try {
      if (deps.cancelRequested(id)) throw new CancelledError('cancelled by request');
      // One read, at retries only: a retry with no backoff can reach a worker before the relay.
      if (deps.cancelNoted && startsAgain(job) && (await deps.cancelNoted(id))) throw new CancelledError('cancelled by request while it waited to be retried');
      const input = validate(deps.definition, job.data);
      run = new Attempt(timeoutOf(job));
      deps.running.set(id, run);
      if (deps.shutdown.aborted) run.abort(shutdownReason(deps.shutdown));
      const childResults = await childResultsOf(job, deps.readStacks);
      const context = createJobContext({ job, type, attempt, run, config, logger, childResults });
      settle = context.settle;
      const raw = await run.race(Promise.resolve().then(() => handler.run(input, context.ctx)));
      const result = checkResult(raw, config.MAX_RESULT_BYTES);
      const inFlight = settle();
      if (inFlight) await inFlight;
      if (logger.isLevelEnabled('debug')) logger.debug({ jobId: id, type, attempt, durationMs: Date.now() - startMs }, 'job completed');
      return result;
    } catch (thrown) {
      // Once the attempt was aborted, its reason (timeout, cancel) says more than what the handler threw on the way out.
      const err = asError(run?.reason ?? thrown);
      await settle?.();
      const log = { jobId: id, type, attempt };
      if (deps.shutdown.aborted) {
        // Back to the head of its queue while this worker still holds its lock, rather than left to
        // stall: BullMQ counts stalls toward maxStalledCount, so restarts alone would fail a long job.
        // WaitingError either way: BullMQ records nothing (one it could not move stalls, as before).
        if (await handBack(job, token, logger)) logger.warn(log, 'job handed back to its queue by a shutdown; another worker will run it');
        throw new WaitingError();
      }
      const error = errorInfo(err);
      const final = err instanceof CancelledError || isUnrecoverable(err) || attempt >= (job.opts.attempts ?? 1);
      if (err instanceof CancelledError) logger.info(log, 'job cancelled');
      // BullMQ refuses to record anything for it (the lock is gone): the job is stall recovery's now.
      else if (err instanceof LockLostError) logger.warn(log, "attempt stopped: this worker lost the job's lock; stall recovery runs it again");
      else logger.warn({ ...log, err: error, durationMs: Date.now() - startMs }, final ? 'job failed' : 'job attempt failed; it will be retried');
      throw err;
    } finally {
      if (run) {
        run.dispose();
        if (deps.running.get(id) === run) deps.running.delete(id);
      }
    }
  };
}
