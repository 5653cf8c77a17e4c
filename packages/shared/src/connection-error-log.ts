/**
 * While Redis is unreachable every connection reports every failed reconnect: the
 * worker's BullMQ workers, its queues, listeners and our own connections, about 7
 * lines a second with the same message. These lines say nothing new after the first,
 * so an outage is logged as its first line, then one `redis connection errors continue`
 * line at growing intervals (1 s, 2 s, 4 s, … up to a minute) with how many it stands for.
 * An error after a quiet spell of 30 s starts a new outage, logged at once.
 */

/**
 * Error texts of a connection that cannot reach its server (ioredis passes Node's socket
 * errors on), or of a Redis Cluster that cannot serve (a master down: every worker queue
 * reports CLUSTERDOWN, through "Too many Cluster redirections", about three times a second).
 */
const CONNECTION_ERROR =
  /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|CLUSTERDOWN)\b|Connection is closed|Too many Cluster redirections|Cluster isn't ready|Failed to refresh slots cache|None of startup nodes is available/;

const FIRST_GAP_MS = 1000;
const MAX_GAP_MS = 60_000;
const QUIET_MS = 30_000;

type LogCall = (this: unknown, ...args: never[]) => void;

function errorText(args: unknown[]): string | undefined {
  const obj = args[0];
  if (typeof obj !== 'object' || obj === null) return undefined;
  const err = (obj as { err?: unknown }).err;
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  return undefined;
}

/**
 * A pino `hooks.logMethod` that coalesces connection errors as above; every other line
 * passes through untouched. One per logger: its children share it, and so one outage.
 * `root` gives the logger whose bindings the summary lines carry (not those of whichever
 * child happened to report the error that is due).
 */
export function coalesceConnectionErrors(root?: () => unknown, now: () => number = Date.now) {
  let startedAt = 0;
  let lastLineAt = 0;
  let lastErrorAt = -Infinity;
  let gap = FIRST_GAP_MS;
  let unlogged = 0;
  let summarising = false;
  return function logMethod(this: unknown, args: unknown[], method: LogCall): void {
    const err = errorText(args);
    // The summary's own call, through root's warn below.
    if (summarising) {
      method.apply(this, args as never[]);
      return;
    }
    if (err === undefined || !CONNECTION_ERROR.test(err)) {
      method.apply(this, args as never[]);
      return;
    }
    const t = now();
    const quiet = t - lastErrorAt > QUIET_MS;
    lastErrorAt = t;
    if (quiet) {
      [startedAt, lastLineAt, gap, unlogged] = [t, t, FIRST_GAP_MS, 0];
      method.apply(this, args as never[]);
      return;
    }
    unlogged++;
    if (t - lastLineAt < gap) return;
    const summary = { err, count: unlogged, sinceMs: t - startedAt };
    [lastLineAt, gap, unlogged] = [t, Math.min(gap * 2, MAX_GAP_MS), 0];
    // Always at warn: through `method` it took the level of whichever error fell due (a worker's
    // error, a connection's warning), and one outage read as two series of lines.
    const logger = root?.() as { warn?: (o: object, msg: string) => void } | undefined;
    if (!logger?.warn) return void method.apply(this, [summary, 'redis connection errors continue'] as never[]);
    summarising = true;
    try {
      logger.warn(summary, 'redis connection errors continue');
    } finally {
      summarising = false;
    }
  };
}
