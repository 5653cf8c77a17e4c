import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { handlers } from '../apps/worker/src/handlers/index';
import { retryFailed } from '../apps/api/src/types/retry-failed';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, waitFor } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker;

/** Runs of each job id. `echo` fails its first run when asked to, or holds until cancelled. */
const runs = new Map<string, number>();
const testEcho: JobHandler = {
  name: 'echo',
  async run(data: { failFirst?: boolean; hold?: boolean }, hctx) {
    const n = (runs.get(hctx.jobId) ?? 0) + 1;
    runs.set(hctx.jobId, n);
    if (data.hold) {
      await new Promise((_, reject) => hctx.signal.addEventListener('abort', () => reject(hctx.signal.reason), { once: true }));
    }
    if (data.failFirst && n === 1) throw new Error('first run fails');
    return { run: n };
  },
};

beforeAll(async () => {
  api = await startApi(ctx);
  worker = await startWorker(ctx, { WORKER_CONCURRENCY: '50' }, new Map([...handlers, ['echo', testEcho]]));
});
afterAll(async () => {
  await worker.close();
  await api.close();
  await ctx.cleanup();
});

const counts = async () => {
  const r = await call(api.url, 'GET', '/types');
  return r.body.types.find((t: { name: string }) => t.name === 'echo').counts;
};

/** A job cancelled while it ran: BullMQ holds it in its failed set, and it reads `cancelled`. */
async function cancelledWhileRunning(): Promise<string> {
  const sub = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { hold: true }, options: { attempts: 1 } });
  await waitFor(() => runs.has(sub.body.id));
  expect((await call(api.url, 'DELETE', `/jobs/${sub.body.id}`)).status).toBe(202);
  expect((await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`)).body.state).toBe('cancelled');
  return sub.body.id;
}

/** `n` jobs that fail their first (and only) attempt, submitted in batches; resolves once all read failed. */
async function failedJobs(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const jobs = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ type: 'echo', data: { failFirst: true, k: i + k }, options: { attempts: 1 } }));
    const r = await call(api.url, 'POST', '/jobs/batch', { jobs });
    expect(r.status).toBe(202);
    ids.push(...r.body.jobs.map((j: { id: string }) => j.id));
  }
  await waitFor(async () => (await counts()).failed >= n, 60000, 100);
  return ids;
}

describe('POST /types/:type/retry-failed', () => {
  it('runs 1,000 failed jobs again and leaves the cancelled ones as they are', { timeout: 120000 }, async () => {
    // Cancelled ones before, among (by time) and after the failed ones, so pages step over them.
    const cancelled = [await cancelledWhileRunning()];
    const failed = await failedJobs(1000);
    cancelled.push(await cancelledWhileRunning());
    expect(await counts()).toMatchObject({ failed: 1002, waiting: 0, active: 0 });

    const r = await call(api.url, 'POST', '/types/echo/retry-failed');
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ retried: 1000 });

    await waitFor(async () => (await counts()).completed === 1000, 60000, 100);
    expect((await counts()).failed).toBe(2);
    for (const id of failed) expect(runs.get(id)).toBe(2);
    const sample = await call(api.url, 'GET', `/jobs/${failed[500]}`);
    expect(sample.body).toMatchObject({ state: 'completed', result: { run: 2 }, attempts: { made: 2, max: 1 } });
    for (const id of cancelled) {
      expect(runs.get(id)).toBe(1);
      expect((await call(api.url, 'GET', `/jobs/${id}`)).body).toMatchObject({ state: 'cancelled', error: { name: 'CancelledError' } });
    }
    // Nothing left to retry: the cancelled ones are not counted.
    expect((await call(api.url, 'POST', '/types/echo/retry-failed')).body).toEqual({ retried: 0 });
  });

  it('walks small pages without skipping a job after the cancelled ones it keeps', async () => {
    const cancelled = await cancelledWhileRunning();
    const failed = await failedJobs(7);
    // Pages of 2 across 1 + 2 (earlier test) cancelled and 7 failed jobs.
    expect(await retryFailed(api.context.redis, api.context.queues.get('echo')!, 2)).toBe(7);
    for (const id of failed) expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body.state).toBe('completed');
    expect(runs.get(cancelled)).toBe(1);
  });

  it('answers { retried: 0 } for a type with no failed jobs', async () => {
    expect((await call(api.url, 'POST', '/types/hash/retry-failed')).body).toEqual({ retried: 0 });
  });
});
