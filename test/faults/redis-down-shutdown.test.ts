import { CLOSE_ALLOWANCE_MS } from '@async-jobs/shared';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext, waitFor } from '../helpers';
import { useWorkerProcesses, type WorkerProcess } from '../worker-harness';
import { freePort, ownRedis, type OwnRedis } from './redis-server';

const ctx = createTestContext();
const startWorker = useWorkerProcesses(ctx);

let own: OwnRedis | undefined;

afterAll(async () => {
  await own?.close();
  await ctx.cleanup();
});

const GRACE_MS = 1000;
/** Room for a loaded machine between the deadline and the exit being seen here. */
const MARGIN_MS = 5000;

/** The exit code, or 'still running' once `ms` have passed. */
async function exitWithin(p: WorkerProcess, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([p.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

const connectionError = (l: Record<string, unknown>) => /ECONNREFUSED/.test(String(l.err));

describe('a worker whose Redis is not there', () => {
  it('exits 1 within SHUTDOWN_GRACE_MS (+ the close allowance) of SIGINT, and logs its reconnect errors a few times, not each time', async () => {
    const w = startWorker({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, SHUTDOWN_GRACE_MS: String(GRACE_MS) });
    await w.line(connectionError);
    w.kill('SIGINT');

    expect(await exitWithin(w, GRACE_MS + CLOSE_ALLOWANCE_MS + MARGIN_MS)).toBe(1);
    expect(w.lines.find((l) => l.msg === 'worker shutting down')).toMatchObject({ signal: 'SIGINT' });
    // It says that it gave up on closing, rather than disappearing silently.
    expect(w.lines.some((l) => String(l.msg).startsWith('shutdown did not finish'))).toBe(true);
    // Every connection (BullMQ's, the listeners', ours) fails on each reconnect, several times a
    // second; for its ~3 s of life that is the first line and a summary or two with their count.
    const errorLines = w.lines.filter(connectionError);
    expect(errorLines.length).toBeLessThanOrEqual(4);
    const summary = errorLines.find((l) => l.msg === 'redis connection errors continue');
    expect(summary?.count).toBeGreaterThan(1);
  });
});

describe('a worker whose Redis stops under it', () => {
  it('still exits within SHUTDOWN_GRACE_MS (+ the close allowance) of SIGINT, non-zero because it abandoned its running job', async () => {
    own = await ownRedis();
    const w = startWorker({ REDIS_URL: own.url, SHUTDOWN_GRACE_MS: String(GRACE_MS), WORKER_TYPES: 'sleep' });
    await w.line((l) => l.msg === 'worker ready');
    const conn = new Redis(own.url, { maxRetriesPerRequest: null });
    // The queue the API would pick for this id: sleep's, or one of its shards.
    const name = ctx.keys.queueOf('sleep', 'long-1');
    const queue = new Queue(name, { connection: conn, prefix: ctx.keys.prefixOf(name) });
    try {
      await queue.add('sleep', { ms: 60_000 }, { jobId: 'long-1' });
      await waitFor(async () => (await conn.llen(`${ctx.keys.prefixOf(name)}:${name}:active`)) === 1, 10_000);
    } finally {
      await queue.close();
      conn.disconnect();
    }

    await own.stop('kill');
    await w.line(connectionError);
    w.kill('SIGINT');

    expect(await exitWithin(w, GRACE_MS + CLOSE_ALLOWANCE_MS + MARGIN_MS)).toBe(1);
    expect(w.lines.find((l) => l.msg === 'worker shutting down')).toMatchObject({ signal: 'SIGINT' });
    expect(w.lines.some((l) => String(l.msg).startsWith('grace period over') || String(l.msg).startsWith('shutdown did not finish'))).toBe(true);
  });
});
