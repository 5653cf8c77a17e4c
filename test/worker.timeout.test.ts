import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, enqueue, watchEvents, type EventWatch } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let worker: RunningWorker;
let watch: EventWatch;

beforeAll(async () => {
  watch = await watchEvents(ctx);
  worker = await startWorker(ctx, { WORKER_CONCURRENCY: '2' });
});

afterAll(async () => {
  await worker?.close();
  await watch?.close();
  await ctx.cleanup();
});

describe('per-attempt timeout', () => {
  it('fails an attempt that runs past its timeout with a TimeoutError, and retries it', async () => {
    const started = Date.now();
    const id = await enqueue(ctx, 'sleep', { ms: 5000 }, { timeout: 200, attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    const retrying = await watch.next((e) => e.id === id && e.event === 'retrying');
    expect(retrying.error).toEqual({ name: 'TimeoutError', message: 'timed out after 200 ms' });
    await watch.terminal(id);
    const record = (await worker.record(id))!;
    expect(record.state).toBe('failed');
    expect(record.error).toEqual({ name: 'TimeoutError', message: 'timed out after 200 ms' });
    expect(record.attempts).toEqual({ made: 2, max: 2 });
    // Two attempts of 200 ms, not a 5 s sleep: the handler was stopped.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('keeps the other slot working while one attempt runs into its timeout', async () => {
    const slow = await enqueue(ctx, 'sleep', { ms: 5000 }, { timeout: 1500 });
    await watch.next((e) => e.id === slow && e.event === 'active');
    const quick = await enqueue(ctx, 'echo', { quick: true });
    const quickDone = await watch.terminal(quick);
    expect(quickDone.event).toBe('completed');
    const slowDone = await watch.terminal(slow);
    expect(slowDone.event).toBe('failed');
    expect(slowDone.error?.name).toBe('TimeoutError');
    // The echo finished while the slow job was still active: by the worker's clock, not by the order the
    // two events arrive in (on a Cluster with queue groups, echo's and sleep's come from different masters).
    const [q, s] = [(await worker.record(quick))!, (await worker.record(slow))!];
    expect(Date.parse(q.finishedAt!)).toBeLessThan(Date.parse(s.finishedAt!));
  });

  it('stops a CPU-bound hash at its timeout too', async () => {
    const id = await enqueue(ctx, 'hash', { text: 'x', algorithm: 'sha512', rounds: 1000000 }, { timeout: 100 });
    const done = await watch.terminal(id);
    expect(done.event).toBe('failed');
    expect(done.error).toEqual({ name: 'TimeoutError', message: 'timed out after 100 ms' });
  });
});
