import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers as builtIn } from '../../apps/worker/src/handlers/index';
import type { JobHandler } from '../../apps/worker/src/handlers/handler';
import { createTestContext, enqueue, watchEvents, type EventWatch } from '../helpers';
import { startWorker, type RunningWorker } from '../worker-harness';
import { writeFigures } from './figures';

/*
 * What test/worker.timeout.test.ts and test/worker.poison.test.ts do not cover yet:
 * a handler that never settles and ignores its signal, and records or BullMQ jobs
 * deleted by hand under a running worker.
 */

const ctx = createTestContext();
let worker: RunningWorker;
let watch: EventWatch;
const figures = { injected: 0, accepted: 0, completed: 0, lost: 0 };

const handlers = new Map<string, JobHandler>([
  ['echo', builtIn.get('echo')!],
  ['sleep', builtIn.get('sleep')!],
  // Never settles and never looks at its signal: only the attempt's own timeout can end it.
  ['hangs', { name: 'hangs', run: () => new Promise(() => {}) }],
]);

beforeAll(async () => {
  watch = await watchEvents(ctx, ['hangs']);
  worker = await startWorker(ctx, { WORKER_CONCURRENCY: '2' }, handlers);
});

afterAll(async () => {
  await worker?.close();
  await watch?.close();
  await ctx.cleanup();
  writeFigures('handler-faults', {
    fault: 'Hung handler; BullMQ job deleted by hand',
    ...figures,
    notes:
      'hung attempts end failed (TimeoutError) and a job whose BullMQ data was deleted ends failed (InvalidInputError), as they should; the worker served on after each',
  });
});

/** Runs echo jobs and expects them all to complete: the worker still serves. */
async function stillServes(n: number) {
  const ids = await Promise.all(Array.from({ length: n }, (_, i) => enqueue(ctx, 'echo', { i })));
  const ends = await Promise.all(ids.map((id) => watch.terminal(id)));
  expect(ends.map((e) => e.event)).toEqual(ids.map(() => 'completed'));
}

describe('a handler that hangs and ignores its signal', () => {
  it('is cut off at its timeout with a TimeoutError, and frees its slot for the next jobs', async () => {
    // Twice as many hung jobs as slots: each slot must be freed twice for all of them to end.
    const hung = await Promise.all([1, 2, 3, 4].map(() => enqueue(ctx, 'hangs', {}, { timeout: 300, attempts: 1 })));
    figures.injected += hung.length;
    const ends = await Promise.all(hung.map((id) => watch.terminal(id)));
    for (const e of ends) {
      expect(e.event).toBe('failed');
      expect(e.error).toEqual({ name: 'TimeoutError', message: 'timed out after 300 ms' });
    }
    await stillServes(4);
  });
});

describe('BullMQ jobs deleted by hand', () => {
  it('keeps serving when the BullMQ job is deleted while it runs', async () => {
    const id = await enqueue(ctx, 'sleep', { ms: 600 });
    figures.injected++;
    figures.accepted++;
    await watch.next((e) => e.id === id && e.event === 'active');
    // Job hash, lock and all: what an operator's `DEL` or an over-eager cleanup script does.
    const jobKey = ctx.keys.job('sleep', id);
    expect(await ctx.redis.del(jobKey, `${jobKey}:lock`)).toBeGreaterThan(0);
    // BullMQ is the record: with its job gone, what is left is the tombstone the relay gave
    // this job of another producer when it listed it, and that reads as a removal.
    await stillServes(2);
    expect(await worker.record(id)).toMatchObject({ state: 'cancelled', error: { name: 'RemovedError' } });
  });

  it('fails, without retry and with a clear error, a queued job whose BullMQ data was deleted', async () => {
    const id = await enqueue(ctx, 'sleep', { ms: 10 }, { delay: 300, attempts: 3 });
    figures.injected++;
    await ctx.redis.hdel(ctx.keys.job('sleep', id), 'data');
    const end = await watch.terminal(id);
    expect(end.event).toBe('failed');
    expect(end.error?.name).toBe('InvalidInputError');
    expect((await worker.record(id))?.attempts.made).toBe(1);
    await stillServes(2);
  });
});
