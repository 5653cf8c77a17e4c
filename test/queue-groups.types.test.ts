import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { handlers } from '../apps/worker/src/handlers/index';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, waitFor } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

/*
 * What a sharded type looks like through the type endpoints, workers, logs and schedules:
 * echo in 3 shards (each a group of its own), limited by TYPE_LIMITS.
 */
const ctx = createTestContext({ QUEUE_GROUPS: 'io=hash,sleep', QUEUE_SHARDS: 'echo=3' });
const env = { TYPE_LIMITS: 'echo:concurrency=4' };
let api: RunningApi;
let worker: RunningWorker;

/** Runs of each job id; `echo` fails its first run when asked to, and logs a line. */
const runs = new Map<string, number>();
const testEcho: JobHandler = {
  name: 'echo',
  async run(data: { failFirst?: boolean }, hctx) {
    const n = (runs.get(hctx.jobId) ?? 0) + 1;
    runs.set(hctx.jobId, n);
    await hctx.log(`run ${n}`);
    if (data.failFirst && n === 1) throw new Error('first run fails');
    return { run: n };
  },
};

beforeAll(async () => {
  api = await startApi(ctx, env);
  worker = await startWorker(ctx, env, new Map([...handlers, ['echo', testEcho]]));
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await ctx.cleanup();
});

const shardQueues = () => ctx.keys.queuesOf('echo').map((q) => api.context.queues.get(q)!);
const echoItem = async () => {
  const r = await call(api.url, 'GET', '/types');
  expect(r.status).toBe(200);
  return r.body.types.find((t: { name: string }) => t.name === 'echo');
};
/**
 * Batches of `n` echo jobs until they fall in at least two shards (ids are random: all of a
 * batch of 6 land in one shard about once in 240 tries); every id submitted, in order.
 */
async function submitSpread(n: number, data: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  while (new Set(ids.map((id) => ctx.keys.queueOf('echo', id))).size < 2) {
    const r = await call(api.url, 'POST', '/jobs/batch', {
      jobs: Array.from({ length: n }, (_, i) => ({ type: 'echo', data: { ...data, i }, options: { attempts: 1 } })),
    });
    expect(r.status).toBe(202);
    ids.push(...(r.body.jobs.map((j: { id: string }) => j.id) as string[]));
  }
  return ids;
}

describe('a sharded type through the type endpoints', () => {
  it('has its TYPE_LIMITS on every shard, and GET /types says so once, with its shards', async () => {
    for (const q of shardQueues()) expect(await q.getGlobalConcurrency()).toBe(4);
    const item = await echoItem();
    expect(item).toMatchObject({ paused: false, limits: { concurrency: 4 }, shards: 3 });
    expect((await call(api.url, 'GET', '/types')).body.types.find((t: { name: string }) => t.name === 'hash').shards).toBe(1);
  });

  it('pauses and resumes every shard, and counts the jobs of all shards as one type', async () => {
    const paused = await call(api.url, 'POST', '/types/echo/pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, shards: 3 });
    for (const q of shardQueues()) expect(await q.isPaused()).toBe(true);
    const ids = await submitSpread(9, {});
    expect((await echoItem()).counts.waiting).toBe(ids.length);
    for (const id of ids) expect(runs.has(id)).toBe(false);

    const resumed = await call(api.url, 'POST', '/types/echo/resume');
    expect(resumed.body.paused).toBe(false);
    for (const q of shardQueues()) expect(await q.isPaused()).toBe(false);
    for (const id of ids) expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body.state).toBe('completed');
    await waitFor(async () => (await echoItem()).counts.completed >= ids.length);
    expect((await echoItem()).counts).toMatchObject({ waiting: 0, active: 0 });
  });

  it('retries the failed jobs of every shard', async () => {
    const ids = await submitSpread(9, { failFirst: true });
    for (const id of ids) expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body.state).toBe('failed');
    expect((await echoItem()).counts.failed).toBe(ids.length);
    const r = await call(api.url, 'POST', '/types/echo/retry-failed');
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ retried: ids.length });
    for (const id of ids) expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body.state).toBe('completed');
    expect((await echoItem()).counts.failed).toBe(0);
  });

  it('reads a job log from its own shard', async () => {
    const [id] = await submitSpread(6, {});
    expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body.state).toBe('completed');
    const logs = await call(api.url, 'GET', `/jobs/${id}/logs`);
    expect(logs.status).toBe(200);
    expect(JSON.stringify(logs.body)).toContain('run 1');
  });

  it('lists the worker once, with the sharded type once', async () => {
    const r = await call(api.url, 'GET', '/workers');
    expect(r.status).toBe(200);
    const mine = r.body.workers.filter((w: { id: string }) => w.id === worker.worker.name);
    expect(mine).toHaveLength(1);
    expect(mine[0].types).toEqual(['collect', 'echo', 'hash', 'http.request', 'sleep']);
  });

  it('keeps a schedule of a sharded type in its first shard, where its runs are found by id', async () => {
    const put = await call(api.url, 'PUT', '/schedules/sharded-every', { type: 'echo', data: { s: 1 }, every: 3600_000 });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const [first, ...rest] = shardQueues();
    expect(await first.getJobScheduler('sharded-every')).toMatchObject({ key: 'sharded-every' });
    for (const q of rest) expect(await q.getJobScheduler('sharded-every')).toBeFalsy();
    expect(put.body.recentJobs).toHaveLength(1);
    const run = await call(api.url, 'GET', `/jobs/${encodeURIComponent(put.body.recentJobs[0])}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ type: 'echo', schedule: 'sharded-every' });
    const list = await call(api.url, 'GET', '/schedules');
    expect(list.body.schedules.map((s: { name: string }) => s.name)).toEqual(['sharded-every']);
    expect((await call(api.url, 'DELETE', '/schedules/sharded-every')).status).toBe(204);
    expect(await first.getJobScheduler('sharded-every')).toBeFalsy();
  });
});
