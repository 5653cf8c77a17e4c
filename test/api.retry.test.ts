import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, watchEvents, type EventWatch } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker;
let events: EventWatch;

/** How often each job id has run: `echo` fails on a job's first run when its data asks for it. */
const runs = new Map<string, number>();
const flakyEcho: JobHandler = {
  name: 'echo',
  run(data: { failFirst?: boolean }, hctx) {
    const n = (runs.get(hctx.jobId) ?? 0) + 1;
    runs.set(hctx.jobId, n);
    if (data.failFirst && n === 1) throw new Error('first run fails');
    return { run: n };
  },
};

beforeAll(async () => {
  api = await startApi(ctx);
  worker = await startWorker(ctx, {}, new Map([['echo', flakyEcho]]));
  events = await watchEvents(ctx);
});
afterAll(async () => {
  await events.close();
  await worker.close();
  await api.close();
  await ctx.cleanup();
});

/** Submits an echo job that fails on its first (and only) attempt, and waits until it is `failed`. */
async function failedJob(): Promise<string> {
  const sub = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { failFirst: true }, options: { attempts: 1 } });
  expect(sub.status).toBe(202);
  const end = await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`);
  expect(end.body).toMatchObject({ state: 'failed', error: { message: 'first run fails' } });
  return sub.body.id;
}

const retry = (id: string) => call(api.url, 'POST', `/jobs/${id}/retry`);

describe('POST /jobs/:id/retry', () => {
  it('queues a failed job again, and it runs to completion', async () => {
    const id = await failedJob();
    const r = await retry(id);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id, state: 'queued', error: null, finishedAt: null, lastError: { message: 'first run fails' } });

    const end = await call(api.url, 'GET', `/jobs/${id}/result?wait=20`);
    expect(end.status).toBe(200);
    // lastError stays the error of the latest failed attempt, as after an automatic retry.
    expect(end.body).toMatchObject({ state: 'completed', result: { run: 2 }, error: null, lastError: { name: 'Error', message: 'first run fails' } });
    // A manual retry is one more attempt, on top of the one the job was given.
    expect(end.body.attempts).toEqual({ made: 2, max: 1 });
    // The API answered from its own subscriber or a read; ours may hear the events later
    // (on a Redis Cluster they cross the cluster bus). A job's events arrive in order.
    await events.next((e) => e.id === id && e.event === 'completed');
    expect(events.of(id).map((e) => e.event)).toEqual(['submitted', 'active', 'failed', 'retrying', 'active', 'completed']);
  });

  it('lets exactly one of two concurrent retries through', async () => {
    const id = await failedJob();
    const answers = await Promise.all([retry(id), retry(id)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    await events.next((e) => e.id === id && e.event === 'completed');
    expect(runs.get(id)).toBe(2);
  });

  it('answers 409 for a job that is not failed', async () => {
    const sub = await call(api.url, 'POST', '/jobs', { type: 'echo', data: {} });
    await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`);
    const r = await retry(sub.body.id);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('conflict');
    expect(r.body.error.message).toMatch(/completed/);
  });

  it('answers 409 for a failed job an operator removed since: it reads cancelled', async () => {
    const id = await failedJob();
    await api.context.queues.get('echo')!.remove(id);
    const r = await retry(id);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/cancelled/);
    expect((await call(api.url, 'GET', `/jobs/${id}`)).body).toMatchObject({ state: 'cancelled', error: { name: 'RemovedError' } });
  });

  it('answers 415 to a body that is not JSON, retrying nothing; no body or a JSON one still retries', async () => {
    const id = await failedJob();
    const plain = await call(api.url, 'POST', `/jobs/${id}/retry`, 'please', { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.body.error.code).toBe('unsupported_media_type');
    expect((await call(api.url, 'GET', `/jobs/${id}`)).body.state).toBe('failed');
    const json = await call(api.url, 'POST', `/jobs/${id}/retry`, {});
    expect(json.status).toBe(202);
    expect(json.body).toMatchObject({ id, state: 'queued' });
    await events.next((e) => e.id === id && e.event === 'completed');

    // The other POSTs without a body answer the same.
    for (const path of ['/types/echo/pause', '/types/echo/resume', '/types/echo/retry-failed']) {
      const r = await call(api.url, 'POST', path, 'now', { 'content-type': 'text/plain' });
      expect(r.status, path).toBe(415);
      expect(r.body.error.code).toBe('unsupported_media_type');
    }
    const types = await call(api.url, 'GET', '/types');
    expect(types.body.types.find((t: { name: string }) => t.name === 'echo').paused).toBe(false);
  });

  it('answers 404 for an unknown job and 410 for an expired one', async () => {
    expect((await retry('no-such-job')).status).toBe(404);
    const id = await failedJob();
    // Past its retention: BullMQ dropped it, and the tombstone says it was submitted long ago.
    await ctx.redis.del(ctx.keys.job('echo', id));
    await ctx.redis.hset(ctx.keys.tombstone('echo', id), 's', '1');
    const r = await retry(id);
    expect(r.status).toBe(410);
    expect(r.body.error.code).toBe('expired');
  });
});
