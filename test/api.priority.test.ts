import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let api: RunningApi;
const workers: RunningWorker[] = [];
let sleepServed = false;

beforeAll(async () => {
  api = await startApi(ctx);
});
afterAll(async () => {
  for (const w of workers) await w.close();
  await api.close();
  await ctx.cleanup();
});

async function submit(type: string, data: unknown, options: unknown): Promise<{ id: string; state: string }> {
  const r = await call(api.url, 'POST', '/jobs', { type, data, options });
  expect(r.status).toBe(202);
  return r.body;
}

const finished = async (id: string) => (await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body;

describe('priority and delay, end to end', () => {
  it('runs a high-priority job before low-priority ones submitted earlier', async () => {
    // No worker yet: everything waits in the queue. `sleep` so that each run takes measurable
    // time; priority orders one BullMQ queue, so where a layout shards sleep (docs/scaling-out.md)
    // `hash` with many rounds, which every layout here keeps in one queue, stands in for it.
    const [type, data] = ctx.keys.queuesOf('sleep').length === 1 ? ['sleep', { ms: 30 }] : ['hash', { text: 'x', rounds: 50000 }];
    expect(ctx.keys.queuesOf(type)).toHaveLength(1);
    const low1 = await submit(type, data, { priority: 10 });
    const low2 = await submit(type, data, { priority: 10 });
    const high = await submit(type, data, { priority: 1 });
    workers.push(await startWorker(ctx, { WORKER_CONCURRENCY: '1', WORKER_TYPES: type }));
    sleepServed = type === 'sleep';

    const [h, l1, l2] = await Promise.all([finished(high.id), finished(low1.id), finished(low2.id)]);
    for (const j of [h, l1, l2]) expect(j.state).toBe('completed');
    const started = (j: { startedAt: string }) => Date.parse(j.startedAt);
    expect(started(h)).toBeLessThan(started(l1));
    // Equal priorities keep their submission order.
    expect(started(l1)).toBeLessThan(started(l2));
  });

  it('holds a delayed job back for its delay, then runs it', async () => {
    if (!sleepServed) {
      workers.push(await startWorker(ctx, { WORKER_CONCURRENCY: '1', WORKER_TYPES: 'sleep' }));
      sleepServed = true;
    }
    const delay = 800;
    const job = await submit('sleep', { ms: 1 }, { delay });
    expect(job.state).toBe('delayed');
    const early = await call(api.url, 'GET', `/jobs/${job.id}`);
    expect(early.body.state).toBe('delayed');

    const end = await finished(job.id);
    expect(end.state).toBe('completed');
    // submittedAt is taken just after the enqueue, so allow those few milliseconds.
    expect(Date.parse(end.startedAt) - Date.parse(end.submittedAt)).toBeGreaterThanOrEqual(delay - 50);
  });
});
