import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResultsStore } from '@async-jobs/shared';
import { createTestContext, enqueue, watchEvents, type EventWatch } from './helpers';
import { startWorker, useWorkerProcesses } from './worker-harness';

const ctx = createTestContext();
const store = createResultsStore({ redis: ctx.redis, keys: ctx.keys, resultTtlSeconds: 600 });
let watch: EventWatch;
const spawnTracked = useWorkerProcesses(ctx);
/**
 * Small lock and stall-check times so that recovery takes seconds, not the defaults' tens of
 * seconds; debug level, where 'job completed' is logged.
 */
const fast = { STALLED_INTERVAL_MS: '1000', LOCK_DURATION_MS: '2000', WORKER_TYPES: 'sleep', LOG_LEVEL: 'debug' };

const start = () => spawnTracked(fast);

beforeAll(async () => {
  watch = await watchEvents(ctx);
});

afterAll(async () => {
  await watch?.close();
  await ctx.cleanup();
});

describe('a worker killed mid-job', () => {
  it('has its job run again by another worker, which completes it exactly once', async () => {
    const first = start();
    await first.line((l) => l.msg === 'worker ready');
    // One attempt only: recovering from a dead worker must not need a retry.
    const id = await enqueue(ctx, 'sleep', { ms: 3000 }, { attempts: 1 });
    await watch.next((e) => e.id === id && e.event === 'active');
    first.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = start();
    await second.line((l) => l.msg === 'worker ready');
    const done = await watch.terminal(id, 25000);
    expect(done.event).toBe('completed');
    await second.line((l) => l.msg === 'job completed' && l.jobId === id);

    const record = await store.read(id);
    expect(record?.state).toBe('completed');
    expect(record?.result).toEqual({ sleptMs: 3000 });
    expect(record?.attempts).toEqual({ made: 1, max: 1 });
    const events = watch.of(id).map((e) => e.event);
    expect(events.filter((e) => e === 'completed')).toHaveLength(1);
    expect(events.filter((e) => e === 'active')).toHaveLength(2);
    expect(events).not.toContain('failed');
  });

  it('ends failed with a StalledError, not stuck active, once it stalled more often than allowed', async () => {
    const id = await enqueue(ctx, 'sleep', { ms: 10 }, { attempts: 3 });
    // What BullMQ's stall checker writes on the job when it passes maxStalledCount; the next
    // worker to take the job fails it without running it, under a name that says nothing.
    // Clients must read StalledError, in the resource and on the events channel.
    await ctx.redis.hset(ctx.keys.job('sleep', id), 'defa', 'job stalled more than allowable limit');
    const worker = await startWorker(ctx, { WORKER_TYPES: 'sleep' });
    try {
      const done = await watch.terminal(id);
      expect(done.event).toBe('failed');
      expect(done.error?.name).toBe('StalledError');
      const record = await worker.record(id);
      expect(record?.state).toBe('failed');
      expect(record?.error).toEqual({ name: 'StalledError', message: 'job stalled more than allowable limit' });
      // Ended for good: its other attempts are not spent on a job that keeps killing workers.
      expect(record?.attempts).toEqual({ made: 1, max: 3 });
      expect(watch.of(id).map((e) => e.event)).not.toContain('retrying');
    } finally {
      await worker.close();
    }
  });
});
