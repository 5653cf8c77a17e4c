import { setTimeout as pause } from 'node:timers/promises';
import { BoundedQueue } from '../bounded-queue';

/** setTimeout's ceiling (2^31 - 1 ms); a longer delay would fire at once instead. */
export const MAX_SECONDS = 2_147_483;

export interface KitchenOptions {
  /** How long the kitchen stays open, in seconds (> 0). Default 5. */
  seconds?: number;
  /** Dishes the counter holds before cooks must wait. Default 10. */
  capacity?: number;
  /** Number of cooks, named P1..Pn. Default 3. */
  producers?: number;
  /** Number of eaters, named C1..Cn. Default 2. */
  consumers?: number;
  /** Receives each log line, without its newline. Default: stdout. */
  write?: (line: string) => void;
  /** A number in [0, 1), like Math.random (the default); picks dishes and pauses. */
  random?: () => number;
  /** Closes the kitchen early (e.g. on Ctrl-C). */
  signal?: AbortSignal;
}

export interface KitchenReport {
  made: number;
  eaten: number;
  /** Dishes still on the counter at closing time. */
  left: number;
}

/**
 * Cooks put random dishes (0-9) on a bounded counter and eaters take them, each pausing 0-1 s
 * between dishes, until `seconds` pass. Then waiting puts/takes and pauses are aborted, the
 * timer cleared, and the promise resolves: nothing is left to keep the process alive.
 */
export async function runKitchen(options: KitchenOptions = {}): Promise<KitchenReport> {
  const {
    seconds = 5,
    capacity = 10,
    producers = 3,
    consumers = 2,
    write = (line: string) => void process.stdout.write(`${line}\n`),
    random = Math.random,
  } = options;
  if (!(seconds > 0 && seconds <= MAX_SECONDS)) {
    throw new RangeError(`seconds must be a number in (0, ${MAX_SECONDS}], got ${String(seconds)}`);
  }
  const counter = new BoundedQueue<number>(capacity);
  const closing = new AbortController();
  const close = () => closing.abort();
  const timer = setTimeout(close, seconds * 1000);
  options.signal?.addEventListener('abort', close, { once: true });
  if (options.signal?.aborted) close();
  const { signal } = closing;
  const report = { made: 0, eaten: 0, left: 0 };

  const cook = async (name: string) => {
    while (!signal.aborted) {
      const dish = Math.min(9, Math.floor(random() * 10));
      await counter.put(dish, signal);
      report.made++;
      write(`cook ${name} made ${dish} --- ${counter.size} waiting to be eaten`);
      await pause(random() * 1000, undefined, { signal });
    }
  };
  const eater = async (name: string) => {
    while (!signal.aborted) {
      const dish = await counter.take(signal);
      report.eaten++;
      write(`eater ${name} ate ${dish} --- ${counter.size} left`);
      await pause(random() * 1000, undefined, { signal });
    }
  };
  // An abort is how every loop ends; any other error closes the kitchen for everyone, then is rethrown.
  const untilClosed = async (loop: Promise<void>) => {
    try {
      await loop;
    } catch (err) {
      if (signal.aborted) return;
      closing.abort(err);
      throw err;
    }
  };

  const actors = [...names('P', producers).map((n) => () => cook(n)), ...names('C', consumers).map((n) => () => eater(n))];
  const loops: Promise<void>[] = [];
  try {
    // One turn apart, like threads started in a row: started together, all five would act before
    // any of them logged, and every first line would show the same count.
    for (const actor of actors) {
      loops.push(untilClosed(actor()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const failed = (await Promise.allSettled(loops)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', close);
    counter.close();
  }
  report.left = counter.size;
  return report;
}

function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}
