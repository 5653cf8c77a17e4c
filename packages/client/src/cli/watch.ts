import type { AsyncJobsClient } from '../client';
import type { Job } from '../types';
import { exitCodeOf } from './exit-codes';
import { printJson, type Output } from './output';
import { progressLine } from './progress-bar';

/**
 * Follows a job's events to its end. On a terminal: a progress bar redrawn in place, then
 * the final job. Otherwise: each event as a JSON line `{"id","event","data"}`, the last
 * one terminal. Returns the exit code of the job's end.
 */
export async function watch(client: AsyncJobsClient, id: string, o: Output, signal: AbortSignal): Promise<number> {
  let state = '';
  let progress: unknown;
  for await (const e of client.events(id, { signal })) {
    if (e.event === 'completed' || e.event === 'failed' || e.event === 'cancelled') {
      if (o.tty) {
        const done = e.event === 'completed' && typeof e.data.progress === 'number' ? 100 : e.data.progress;
        o.out(`${progressLine(e.event, done, process.stdout.columns)}\n`);
        printJson(o, e.data);
      } else {
        printJson(o, e);
      }
      return exitCodeOf(e.data as Job);
    }
    if (!o.tty) {
      printJson(o, e);
      continue;
    }
    state = e.data.state ?? state;
    if (e.data.progress !== undefined) progress = e.data.progress;
    o.out(progressLine(state, progress, process.stdout.columns));
  }
  // The iterator ends without a terminal event only when the server answered 204 (the job
  // ended before this watch began and we resumed past it): ask how it ended.
  const job = await client.get(id, { signal });
  printJson(o, o.tty ? job : { event: job.state, data: job });
  return exitCodeOf(job);
}
