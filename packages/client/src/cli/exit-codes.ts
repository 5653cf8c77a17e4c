import type { Job } from '../types';

/** The CLI's exit status, documented in its usage text and the README. */
export const exitCodes = {
  ok: 0,
  /** The API answered an error, or could not be reached. */
  apiError: 1,
  usage: 2,
  failed: 3,
  cancelled: 4,
} as const;

/** How a command that waited for a job's end exits: 0 only when the job completed. */
export function exitCodeOf(job: Pick<Job, 'state'>): number {
  if (job.state === 'failed') return exitCodes.failed;
  if (job.state === 'cancelled') return exitCodes.cancelled;
  return exitCodes.ok;
}
