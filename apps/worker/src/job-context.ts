import type { Job } from 'bullmq';
import { JOB_LOG_LINES, type ChildResult, type Config, type Logger } from '@async-jobs/shared';
import type { Attempt } from './attempt';
import { LockLostError } from './errors';
import type { HandlerContext } from './handlers/handler';
import { logLine } from './log-line';

/** Object progress larger than this is dropped: BullMQ appends every report to its event stream. */
const MAX_PROGRESS_BYTES = 16 * 1024;

export interface ContextDeps {
  job: Job;
  type: string;
  attempt: number;
  run: Attempt;
  config: Config;
  logger: Logger;
  childResults?: ChildResult[];
}

function checkProgress(p: unknown): string | null {
  if (typeof p === 'number') return Number.isFinite(p) && p >= 0 && p <= 100 ? null : 'a number must be 0–100';
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'must be a number 0–100 or an object';
  try {
    const json = JSON.stringify(p);
    return Buffer.byteLength(json) <= MAX_PROGRESS_BYTES ? null : `an object must be at most ${MAX_PROGRESS_BYTES} bytes as JSON`;
  } catch {
    return 'an object must be JSON';
  }
}

/**
 * The handler's view of its attempt. Progress and log calls go to BullMQ (`updateProgress`,
 * `log`) and never reject (a failing progress write must not fail the job); the processor
 * waits for the ones still in flight before it returns, so the outcome comes after them.
 */
export function createJobContext(d: ContextDeps): { ctx: HandlerContext; settle(): Promise<void> | undefined } {
  const jobId = d.job.id as string;
  let pending: Set<Promise<void>> | undefined;
  // The log bound is not stored with the job (shared/queues.ts): job.log reads it from this
  // in-memory copy of the options, and BullMQ trims the log to it on each line. A job from
  // another producer that set keepLogs of its own keeps that.
  d.job.opts.keepLogs ??= JOB_LOG_LINES;
  const track = (work: Promise<unknown>, what: string) => {
    const p = work.then(
      () => {},
      (err: Error) => d.logger.warn({ jobId, type: d.type, attempt: d.attempt, err: err.message }, `${what} failed`),
    );
    const set = pending ?? new Set();
    pending = set;
    set.add(p);
    void p.finally(() => set.delete(p));
    return p;
  };

  const ctx: HandlerContext = {
    jobId,
    attempt: d.attempt,
    // Made only if the handler reads it (attempt.ts).
    get signal() {
      return d.run.signal;
    },
    config: d.config,
    childResults: d.childResults ?? [],
    progress(p) {
      const problem = checkProgress(p);
      if (problem) {
        d.logger.warn({ jobId, type: d.type, problem }, 'progress ignored');
        return Promise.resolve();
      }
      // Once the attempt is over (timed out, cancelled) its progress is no longer news.
      if (d.run.aborted) return Promise.resolve();
      return track(d.job.updateProgress(p), 'progress update');
    },
    log(message) {
      const line = logLine(String(message));
      // Debug: the line is kept with the job (GET /jobs/:id/logs, Bull Board); at info, `sleep`
      // alone would print a dozen lines per job.
      d.logger.debug({ jobId, type: d.type, attempt: d.attempt }, line);
      // An attempt that lost the job's lock writes nothing more into it (another worker may run it);
      // one cancelled or timed out may still say how it stopped.
      if (d.run.reason instanceof LockLostError) return Promise.resolve();
      return track(d.job.log(line), 'job log');
    },
  };

  return {
    ctx,
    settle: () => (pending && pending.size > 0 ? Promise.all([...pending]).then(() => undefined) : undefined),
  };
}
