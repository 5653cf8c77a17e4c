import { isTerminal, type JobRecord } from '@async-jobs/shared';
import type { Response } from 'express';
import type { AppContext } from '../deps';
import { mayHaveEnded } from '../events/lifecycle';

/**
 * Holds until job `id` is terminal, `ms` pass, the client goes away or the API shuts
 * down; then returns the job as it is. Woken by the stream reader, never by polling:
 * Redis is read once on entry with `load` (after the watch is in place, so no event can
 * slip in between; it throws for a job that does not exist) and again only after an
 * event that can end a job (completed, failed, removed) or a "read again" notice.
 */
export async function waitForTerminal(ctx: AppContext, id: string, ms: number, res: Response, load: () => Promise<JobRecord>): Promise<JobRecord> {
  let wake!: () => void;
  let woken = new Promise<void>((resolve) => (wake = resolve));
  let done = false;
  const unwatch = ctx.notifier.watch(id, 'poll', (n) => {
    if (n.kind !== 'event' || mayHaveEnded(n.entry)) {
      if (n.kind === 'closing') done = true;
      wake();
    }
  });
  const finish = () => {
    done = true;
    wake();
  };
  const timer = setTimeout(finish, ms);
  // The response's close, not the request's: a request whose body has been read closes at once.
  // on/off rather than once: once() wraps the listener in a bound function and a state object, per held request.
  res.on('close', finish);
  try {
    let now = await load();
    while (!isTerminal(now.state) && !done) {
      await woken;
      woken = new Promise<void>((resolve) => (wake = resolve));
      // A job gone meanwhile answers as load() says (404, 410 or cancelled).
      now = await load();
    }
    return now;
  } finally {
    clearTimeout(timer);
    res.off('close', finish);
    unwatch();
  }
}
