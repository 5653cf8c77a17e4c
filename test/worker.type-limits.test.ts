import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Queue } from 'bullmq';
import { retention } from '@async-jobs/shared';
import { createTestContext, waitFor } from './helpers';
import { spawnProcess, useWorkerProcesses } from './worker-harness';

// Worker processes start through tsx: slow on a loaded machine.
vi.setConfig({ testTimeout: 120000 });

const ctx = createTestContext();
const spawn = useWorkerProcesses(ctx);

afterAll(async () => {
  await ctx.cleanup();
});

interface Run {
  id: string;
  /** BullMQ's queue the job ran from: the type, or one of its shards (`sleep~2`). */
  queue: string;
  start: number;
  end: number;
}

/**
 * Adds `n` jobs of `type` at once, each to the queue the API would pick for its id (a
 * shard of a sharded type), and waits until all completed; their runs as BullMQ recorded them.
 */
async function runAll(type: string, data: object, n: number): Promise<Run[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  const queues = new Map(ctx.keys.queuesOf(type).map((q) => [q, new Queue(q, { connection: ctx.redis, prefix: ctx.keys.prefixOf(q) })]));
  try {
    await Promise.all(
      [...queues].map(([name, queue]) =>
        queue.addBulk(
          ids.filter((id) => ctx.keys.queueOf(type, id) === name).map((id) => ({ name: type, data, opts: { jobId: id, attempts: 1, ...retention(3600) } })),
        ),
      ),
    );
    const completed = async () => {
      let total = 0;
      for (const queue of queues.values()) total += (await queue.getJobCounts('completed')).completed;
      return total;
    };
    await waitFor(async () => (await completed()) === n, 60000, 100);
    return Promise.all(
      ids.map(async (id) => {
        const h = await ctx.redis.hgetall(ctx.keys.job(type, id));
        return { id, queue: ctx.keys.queueOf(type, id), start: Number(h.processedOn), end: Number(h.finishedOn) };
      }),
    );
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
  }
}

/** The runs of each queue: BullMQ's limits hold per queue, so per shard of a sharded type (docs/scaling-out.md). */
function byQueue(runs: Run[]): Run[][] {
  const out = new Map<string, Run[]>();
  for (const r of runs) out.set(r.queue, [...(out.get(r.queue) ?? []), r]);
  return [...out.values()];
}

async function twoWorkers(env: Record<string, string>) {
  const workers = [spawn(env), spawn(env)];
  // Two processes starting at once on a busy machine: give them time.
  await Promise.all(workers.map((w) => w.line((l) => l.msg === 'worker ready', 60000)));
  return workers;
}

/**
 * BullMQ's rate limit is a fixed window: the first start opens it (a key that expires after
 * `duration`), at most `max` jobs start in it, and the next start after it expires opens the
 * next. So the starts, walked in order, fall into windows each opened by a start, each
 * with at most `max` starts, and the next window opening a whole `duration` after the last.
 * `processedOn` is the worker's clock just before its fetch reaches Redis, so a start may
 * read up to `slackMs` early against the window Redis counted it in.
 */
function busiestWindow(starts: number[], durationMs: number, slackMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; ) {
    const open = sorted[i];
    let j = i;
    while (j < sorted.length && sorted[j] < open + durationMs - slackMs) j++;
    most = Math.max(most, j - i);
    i = j;
  }
  return most;
}

/** The fields of each of `type`'s queues' meta hash, where BullMQ keeps limits every worker reads. */
function limitsOf(type: string, ...fields: string[]): Promise<(string | null)[][]> {
  return Promise.all(ctx.keys.queuesOf(type).map((q) => ctx.redis.hmget(`${ctx.keys.prefixOf(q)}:${q}:meta`, ...fields)));
}

/** Most runs at the same moment; a run holds [start, end). */
function mostAtOnce(runs: Run[]): number {
  const edges = runs.flatMap((r) => [[r.start, 1] as const, [r.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) {
    now += d;
    most = Math.max(most, now);
  }
  return most;
}

describe('TYPE_LIMITS across worker processes', () => {
  it('starts at most 5 jobs per second between two workers with rate=5/1s', async () => {
    await twoWorkers({ TYPE_LIMITS: 'echo:rate=5/1s', WORKER_TYPES: 'echo', WORKER_CONCURRENCY: '10' });
    const runs = await runAll('echo', { x: 1 }, 20);
    for (const queueRuns of byQueue(runs))
      expect(
        busiestWindow(
          queueRuns.map((r) => r.start),
          1000,
          50,
        ),
      ).toBeLessThanOrEqual(5);
    // One queue (echo is not sharded) or N shards allowing N x 5.
    expect(
      busiestWindow(
        runs.map((r) => r.start),
        1000,
        50,
      ),
    ).toBeLessThanOrEqual(5 * ctx.keys.queuesOf('echo').length);
    // The limit both processes obey is BullMQ's, in each queue's meta hash; which of them
    // wins each window's race is BullMQ's choice, so it is not asserted.
    expect(await limitsOf('echo', 'max', 'duration')).toEqual(ctx.keys.queuesOf('echo').map(() => ['5', '1000']));
  });

  it('runs at most 2 jobs at once between two workers with concurrency=2', async () => {
    await twoWorkers({ TYPE_LIMITS: 'sleep:concurrency=2', WORKER_TYPES: 'sleep', WORKER_CONCURRENCY: '5' });
    const runs = await runAll('sleep', { ms: 100 }, 20);
    // At most 2 at once in each queue (each shard of sleep, when it is sharded), and 2 reached,
    // though each worker alone would run 5: the limit is not one either process keeps.
    const perQueue = byQueue(runs).map(mostAtOnce);
    expect(Math.max(...perQueue)).toBe(2);
    expect(mostAtOnce(runs)).toBeLessThanOrEqual(2 * ctx.keys.queuesOf('sleep').length);
    // It is BullMQ's global concurrency, kept in each queue's meta hash where every worker reads
    // it. Which worker runs the jobs is not asserted: a worker that finishes a job fetches the
    // next in the same call, so one of them may keep both slots for the whole run (two
    // fresh-clone cluster runs saw that).
    expect(await limitsOf('sleep', 'concurrency')).toEqual(ctx.keys.queuesOf('sleep').map(() => ['2']));
  });

  it('clears a limit in Redis when a worker starts without it', async () => {
    const meta = () => ctx.redis.hmget(`${ctx.keys.prefixOf('hash')}:hash:meta`, 'concurrency', 'max', 'duration');
    const [first] = await Promise.all([spawn({ TYPE_LIMITS: 'hash:rate=3/2s,concurrency=7', WORKER_TYPES: 'hash' })]);
    const set = await first.line((l) => l.msg === 'type limit set' && l.limit === 'rate', 60000);
    expect(set).toMatchObject({ type: 'hash', from: null, to: { max: 3, durationMs: 2000 } });
    await first.line((l) => l.msg === 'worker ready', 60000);
    expect(await meta()).toEqual(['7', '3', '2000']);
    first.kill('SIGTERM');
    await first.exited;
    const second = spawn({ WORKER_TYPES: 'hash' });
    await second.line((l) => l.msg === 'worker ready', 60000);
    expect(await meta()).toEqual([null, null, null]);
    expect(second.lines.filter((l) => l.msg === 'type limit set')).toHaveLength(2);
  });
});

describe('a bad TYPE_LIMITS', () => {
  for (const [script, name] of [
    ['apps/worker/src/main.ts', 'the worker'],
    ['apps/api/src/main.ts', 'the API'],
  ]) {
    it(`stops ${name} at start with exit 2 and a message naming the bad part`, async () => {
      const p = spawnProcess(script, ctx.env({ LOG_LEVEL: 'info', PORT: '0', TYPE_LIMITS: 'hash:concurrency=2;echo:rate=10/1h' }));
      expect(await p.exited).toBe(2);
      expect(p.stderr()).toContain('TYPE_LIMITS: echo rate=10/1h: rate must look like 10/1s (count/duration, duration units ms, s or m)');
      // Nothing was applied, not even the valid part before the bad one.
      expect(await ctx.redis.hget(`${ctx.keys.prefixOf('hash')}:hash:meta`, 'concurrency')).toBeNull();
    });
  }
});
