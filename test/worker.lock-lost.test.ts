import { Writable } from 'node:stream';
import { createLogger } from '@async-jobs/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext, enqueue, waitFor, watchEvents } from './helpers';
import { startWorker } from './worker-harness';

const ctx = createTestContext();

afterAll(async () => {
  await ctx.cleanup();
});

describe('a worker that loses the lock of a job it runs', () => {
  it('stops that attempt, so its progress and log lines no longer land in the job another worker may run', async () => {
    const lines: { msg: string; jobId?: string }[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    // Locks renewed every 500 ms; no stall check during the test, so nobody runs the job again here.
    const worker = await startWorker(
      ctx,
      { WORKER_TYPES: 'sleep', LOCK_DURATION_MS: '1000', STALLED_INTERVAL_MS: '600000' },
      undefined,
      createLogger('worker-test', 'info', out),
    );
    const watch = await watchEvents(ctx);
    try {
      const id = await enqueue(ctx, 'sleep', { ms: 8000 });
      await watch.next((e) => e.id === id && e.event === 'progress');
      const jobKey = ctx.keys.job('sleep', id);
      // As when the lock lapsed while the process stood still (a stopped process, a blocked event loop).
      await ctx.redis.del(`${jobKey}:lock`);
      await waitFor(() => lines.some((l) => l.msg === 'lost the lock of a running job; stopping its attempt' && l.jobId === id));

      const progress = await ctx.redis.hget(jobKey, 'progress');
      const logs = await ctx.redis.llen(`${jobKey}:logs`);
      // The sleep reported every 800 ms while it ran: two ticks' worth of silence.
      await new Promise((r) => setTimeout(r, 1800));
      expect(await ctx.redis.hget(jobKey, 'progress')).toBe(progress);
      expect(await ctx.redis.llen(`${jobKey}:logs`)).toBe(logs);
    } finally {
      await watch.close();
      await worker.close();
    }
  });
});
