import { isTerminal, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { mayHaveEnded } from '../events/lifecycle';
import type { PeekRequest } from '../events/notifier';
import { isUnavailable } from '../middleware/redis-errors';
import type { HttpRequest } from '../route-handler';

/** How soon a wait whose read found Redis away reads again, the first time and at most. */
const READ_AGAIN_MS = 500;
const READ_AGAIN_MAX_MS = 8000;

export interface TerminalWatch {
  /**
   * Holds until the job is terminal, `ms` pass, the client goes away or the API shuts
   * down; then returns the job as it is. `known` is the job as it was at some moment
   * after the watch began (a submit's own record): then Redis is read only after an event.
   */
  until(ms: number, client: Pick<HttpRequest, 'onClose'>, load: () => Promise<JobRecord>, known?: JobRecord): Promise<JobRecord>;
  /** Ends the watch without waiting (e.g. the submit it was begun for failed). */
  end(): void;
}

/**
 * Watches job `id` from now on. Woken by the stream reader, never by polling: Redis is
 * read once on entry with `load` (after the watch is in place, so no event can slip in
 * between; it throws for a job that does not exist), unless `until` is given a record
 * known since the watch began, and again only after an event that can end a job
 * (completed, failed, removed) or a "read again" notice. Once its type is known (`type`,
 * or the first read), an event may come with the job already read behind the stream read
 * (the notifier's peek): then it is not read again. `idle`: the job is known not to be
 * running yet (a submit's own job), so it is not read behind stream reads before it starts.
 */
export function watchTerminal(ctx: AppContext, id: string, type?: string, idle?: boolean): TerminalWatch {
  let wake!: () => void;
  let woken = new Promise<void>((resolve) => (wake = resolve));
  let done = false;
  let peeked: JobRecord | undefined;
  const peek: PeekRequest = { type, idle };
  const unwatch = ctx.notifier.watch(
    id,
    'poll',
    (n) => {
      if (n.kind !== 'event' || mayHaveEnded(n.entry)) {
        if (n.kind === 'closing') done = true;
        // Only the last notice before the wait resumes counts: after a "read again", read.
        peeked = n.kind === 'event' ? n.peeked : undefined;
        wake();
      }
    },
    peek,
  );
  const finish = () => {
    done = true;
    wake();
  };
  return {
    end: unwatch,
    async until(ms, client, load, known) {
      const timer = setTimeout(finish, ms);
      const unlisten = client.onClose(finish);
      let again: NodeJS.Timeout | undefined;
      let failedReads = 0;
      try {
        let now = known ?? (await load());
        peek.type ??= now.type;
        while (!isTerminal(now.state) && !done) {
          await woken;
          woken = new Promise<void>((resolve) => (wake = resolve));
          const seen = peeked;
          peeked = undefined;
          try {
            // A job gone meanwhile answers as load() says (404, 410 or cancelled).
            now = seen ?? (await load());
          } catch (err) {
            // Redis away for a moment (a "read again" as it came back reaches us before our own
            // connection is up): the wait goes on, and reads again shortly. At the end it answers.
            if (done || !isUnavailable(err)) throw err;
            // Backing off: through an outage, every held wait would otherwise read twice a second.
            clearTimeout(again);
            again = setTimeout(() => wake(), Math.min(READ_AGAIN_MS * 2 ** failedReads++, READ_AGAIN_MAX_MS));
          }
        }
        return now;
      } finally {
        clearTimeout(again);
        clearTimeout(timer);
        unlisten();
        unwatch();
      }
    },
  };
}

/** Holds until job `id` is terminal or `ms` pass (watchTerminal), reading it once on entry. */
export function waitForTerminal(
  ctx: AppContext,
  id: string,
  ms: number,
  client: Pick<HttpRequest, 'onClose'>,
  load: () => Promise<JobRecord>,
): Promise<JobRecord> {
  return watchTerminal(ctx, id).until(ms, client, load);
}
