import { isTerminal, type JobRecord } from '@async-jobs/shared';
import type { Request } from 'express';
import type { AppContext } from '../deps';

/**
 * Holds until job `id` is terminal, `ms` pass, the client goes away or the API shuts
 * down; then returns the record as it is. Woken by the notifier, never by polling:
 * Redis is read once on entry with `load` (after the watch is in place, so no event can
 * slip in between; it throws for a job that does not exist) and once when something
 * happened, unless the terminal event brought the final record along.
 */
export async function waitForTerminal(ctx: AppContext, id: string, ms: number, req: Request, load: () => Promise<JobRecord>): Promise<JobRecord> {
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  let final: JobRecord | null = null;
  const unwatch = ctx.notifier.watch(id, 'poll', (n) => {
    if (n.kind === 'event' && isTerminal(n.event.state)) final = ctx.store.fromEvent(n.event);
    if (n.kind !== 'event' || isTerminal(n.event.state)) wake();
  });
  const timer = setTimeout(wake, ms);
  // on/off rather than once: once() wraps the listener in a bound function and a state object, per held request.
  req.on('close', wake);
  try {
    const now = await load();
    if (isTerminal(now.state)) return now;
    await woken;
    // A terminal event carries the final record when it is small; otherwise read it again
    // (`now` is not kept for the wait: a record gone meanwhile answers as load() says).
    return final ?? (await load());
  } finally {
    clearTimeout(timer);
    req.off('close', wake);
    unwatch();
  }
}
