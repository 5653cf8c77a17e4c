import { setFlagsFromString } from 'node:v8';
import type { Notifier } from './notifier';

/** Held requests (long-polls and event streams) from which the old generation's growth is capped. */
export const CAP_FROM = 1000;
/** Held requests below which it is V8's own again: far below CAP_FROM, so a count near it does not flip the flag to and fro. */
export const FREE_BELOW = 100;
/** How far the old generation may grow past what the last full GC kept, while capped. */
export const CAPPED_PERCENT = 15;

/**
 * `notifier`, with V8's old-generation growth capped at CAPPED_PERCENT while many requests
 * are held, and left to V8 otherwise.
 *
 * Why: a held long-poll's request, response and async frames are in the old generation by
 * the time its job ends, and what its answer hangs on them (the job read back, headers,
 * the body) is reachable from those dead but uncollected objects, so young collections
 * promote it. V8's own growth factor (up to 4x, picked from GC speed) let 10,000 answers
 * pile up to 200 MB of that before a full GC ran: RSS peaked at 300-460 MB against 227-250
 * with the cap. But the cap, set for the whole process (`--heap-growing-percent=15` until
 * 2026-12-03), made V8 collect the small heap of a batch submit over and over: 3-25 µs more
 * API CPU per job (the more, the busier the machine), batch at 0.31-0.35 of raw addBulk
 * against 0.37-0.46 without. So it is set only while held requests
 * make the pile-up possible. V8 reads the flag each time it sets the next collection's
 * limit, so setting it at run time takes effect from the next full GC; 0 is its default.
 */
export function capHeapGrowthWhileHeld(
  notifier: Notifier,
  setFlags: (flags: string) => void = setFlagsFromString,
  operatorChose = heapGrowthGiven([...process.execArgv, process.env.NODE_OPTIONS ?? '']),
): Notifier {
  // An operator who gave the flag to node chose for the whole process: not undone here.
  if (operatorChose) return notifier;
  let capped = false;
  const update = () => {
    const held = notifier.watcherCount();
    if (!capped && held >= CAP_FROM) {
      capped = true;
      setFlags(`--heap-growing-percent=${CAPPED_PERCENT}`);
    } else if (capped && held < FREE_BELOW) {
      capped = false;
      setFlags('--heap-growing-percent=0');
    }
  };
  return {
    ...notifier,
    watch(id, kind, watcher, peek) {
      const unwatch = notifier.watch(id, kind, watcher, peek);
      update();
      return () => {
        unwatch();
        update();
      };
    },
  };
}

/** Whether node's own arguments (or NODE_OPTIONS) set the old generation's growth. */
export const heapGrowthGiven = (args: readonly string[]) => args.some((a) => /--heap[-_]growing[-_]percent/.test(a));
