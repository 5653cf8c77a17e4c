import { Writable } from 'node:stream';
import { coalesceConnectionErrors } from '../packages/shared/src/connection-error-log';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';

/** The hook around a fake log method, on a clock the test moves; returns what was written. */
function hooked() {
  let t = 0;
  const written: unknown[][] = [];
  const hook = coalesceConnectionErrors(undefined, () => t);
  const log = (...args: unknown[]) => hook.call(null, args, (...a: unknown[]) => void written.push(a));
  return { written, log, at: (ms: number) => (t = ms) };
}

const refused = { err: 'connect ECONNREFUSED 127.0.0.1:6379' };

describe('connection errors in the log', () => {
  it('writes an outage as its first line, then summaries at growing intervals with their counts', () => {
    const { written, log, at } = hooked();
    // Seven errors a second for ten seconds, as a worker's connections report them.
    for (let ms = 0; ms < 10_000; ms += 1000 / 7) {
      at(ms);
      log(refused, 'worker error');
    }
    expect(written[0]).toEqual([refused, 'worker error']);
    const summaries = written.slice(1) as [{ count: number; sinceMs: number }, string][];
    expect(summaries.map(([, msg]) => msg)).toEqual(summaries.map(() => 'redis connection errors continue'));
    // 1 s, then 2 s, then 4 s after the previous line: three summaries within 10 s.
    expect(summaries.map(([o]) => Math.round(o.sinceMs / 1000))).toEqual([1, 3, 7]);
    expect(summaries.reduce((n, [o]) => n + o.count, 1)).toBeLessThanOrEqual(70);
    expect(summaries[0][0].count).toBe(7);
  });

  it("coalesces a Redis Cluster's refusals while a master is down as it does refused connections", () => {
    const { written, log, at } = hooked();
    const down = { err: 'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down' };
    for (let ms = 0; ms < 5_000; ms += 300) {
      at(ms);
      log(down, 'worker error');
      log({ err: 'CLUSTERDOWN The cluster is down' }, 'callbacks worker error');
    }
    expect(written[0]).toEqual([down, 'worker error']);
    // Then summaries only (1 s, 2 s after the one before): not 34 lines.
    expect(written.slice(1).map(([, msg]) => msg)).toEqual(['redis connection errors continue', 'redis connection errors continue']);
  });

  it('writes every summary at warn level, whatever the level of the errors it stands for', () => {
    const lines: { level: number; msg: string }[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    let t = 0;
    let logger: Logger | undefined;
    // As createLogger builds it, on a clock the test moves.
    logger = pino(
      {
        hooks: {
          logMethod: coalesceConnectionErrors(
            () => logger,
            () => t,
          ),
        },
      },
      out,
    );
    const child = logger.child({ queue: 'echo' });
    // Errors of both levels, as a worker's BullMQ workers (error) and connections (warn) report them.
    for (; t < 10_000; t += 50) {
      if ((t / 50) % 2 === 0) child.error(refused, 'worker error');
      else logger.warn(refused, 'redis connection error');
    }
    const summaries = lines.filter((l) => l.msg === 'redis connection errors continue');
    expect(summaries.length).toBe(3);
    for (const l of summaries) expect(l.level).toBe(40);
  });

  it('writes the first error of a new outage at once, and every other line untouched', () => {
    const { written, log, at } = hooked();
    log(refused, 'redis connection error');
    at(500);
    log(refused, 'redis connection error');
    log({ jobId: '1' }, 'job completed');
    log({ err: 'boom' }, 'job failed');
    at(60_000);
    log(refused, 'redis connection error');
    expect(written).toEqual([
      [refused, 'redis connection error'],
      [{ jobId: '1' }, 'job completed'],
      [{ err: 'boom' }, 'job failed'],
      [refused, 'redis connection error'],
    ]);
  });
});
