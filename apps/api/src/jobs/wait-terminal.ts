import { isTerminal, type JobRecord } from '@async-jobs/shared';
import type { Request } from 'express';
import type { AppContext } from '../deps';

/**
 * How many woken long-polls re-read their record at once. Thousands of jobs finishing
 * together would otherwise wake thousands of reads whose replies, records and response
 * bodies are all alive at the same moment; V8 then promotes them and grows the heap
 * (the API's RSS jumped about 40 MB answering 10,000 at once). In turns of this size each
 * turn's garbage dies young; the reads are pipelined, so the delay is a few milliseconds.
 */
const READS_AT_ONCE = 128;
let reading = 0;
const queued: (() => void)[] = [];

async function readTurn<T>(read: () => Promise<T>): Promise<T> {
  if (reading >= READS_AT_ONCE) await new Promise<void>((go) => queued.push(go));
  else reading++;
  try {
    return await read();
  } finally {
    // The slot passes straight to the next in line, so `reading` stays at the bound.
    const next = queued.shift();
    if (next) next();
    else reading--;
  }
}

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
    // A terminal event carries the final record when it is small; otherwise read it.
    return final ?? (await readTurn(() => ctx.store.read(id))) ?? now;
  } finally {
    clearTimeout(timer);
    req.off('close', wake);
    unwatch();
  }
}
