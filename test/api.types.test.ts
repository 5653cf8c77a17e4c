import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTypeLimits, createQueues } from '@async-jobs/shared';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { handlers } from '../apps/worker/src/handlers/index';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, waitFor } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker;

/** Runs of each job id; `echo` fails or holds on to its job when its data asks for it. */
const runs = new Map<string, number>();
const releases = new Map<string, () => void>();
const testEcho: JobHandler = {
  name: 'echo',
  async run(data: { fail?: boolean; hold?: boolean }, hctx) {
    runs.set(hctx.jobId, (runs.get(hctx.jobId) ?? 0) + 1);
    if (data.fail) throw new Error('asked to fail');
    if (data.hold) await new Promise<void>((resolve) => releases.set(hctx.jobId, resolve));
    return data;
  },
};

beforeAll(async () => {
  api = await startApi(ctx);
  worker = await startWorker(ctx, {}, new Map([...handlers, ['echo', testEcho]]));
});
afterAll(async () => {
  for (const release of releases.values()) release();
  await worker.close();
  await api.close();
  await ctx.cleanup();
});

const submit = async (data: unknown, options: Record<string, unknown> = {}) => {
  const r = await call(api.url, 'POST', '/jobs', { type: 'echo', data, options });
  expect(r.status).toBe(202);
  return r.body.id as string;
};
const ended = (id: string) => call(api.url, 'GET', `/jobs/${id}/result?wait=20`);
const typeItem = async (name: string) => {
  const r = await call(api.url, 'GET', '/types');
  expect(r.status).toBe(200);
  return r.body.types.find((t: { name: string }) => t.name === name);
};

describe('GET /types', () => {
  it('lists every type with paused, limits and counts', async () => {
    const r = await call(api.url, 'GET', '/types');
    expect(r.body.types.map((t: { name: string }) => t.name)).toEqual(['echo', 'sleep', 'hash', 'http.request', 'collect']);
    for (const t of r.body.types) {
      expect(t).toMatchObject({ paused: false, limits: {}, counts: { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 } });
      expect(t.input).toBeTypeOf('object');
    }
  });

  it("counts each of a type's jobs where BullMQ holds it; paused, prioritized and delayed ones included", async () => {
    const completed = await submit({});
    const failed = await submit({ fail: true }, { attempts: 1 });
    expect((await ended(completed)).body.state).toBe('completed');
    expect((await ended(failed)).body.state).toBe('failed');
    const held = await submit({ hold: true });
    await waitFor(() => releases.has(held));

    const paused = await call(api.url, 'POST', '/types/echo/pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ name: 'echo', paused: true });
    const waiting = [await submit({ n: 1 }), await submit({ n: 2 }, { priority: 5 })];
    await submit({ n: 3 }, { delay: 600000 });

    expect(await typeItem('echo')).toMatchObject({
      paused: true,
      counts: { waiting: 2, active: 1, delayed: 1, completed: 1, failed: 1 },
    });
    // A paused type's jobs read queued (BullMQ keeps them in its wait and prioritized lists).
    for (const id of waiting) expect((await call(api.url, 'GET', `/jobs/${id}`)).body.state).toBe('queued');
    // The running job is not stopped by the pause.
    releases.get(held)!();
    expect((await ended(held)).body.state).toBe('completed');

    await call(api.url, 'POST', '/types/echo/resume');
    for (const id of waiting) expect((await ended(id)).body.state).toBe('completed');
    expect((await typeItem('echo')).counts).toEqual({ waiting: 0, active: 0, delayed: 1, completed: 4, failed: 1 });
  });

  it('shows the limits BullMQ holds, and none once they are cleared', async () => {
    const queues = createQueues(ctx.redis, ctx.keys, () => {}, ['hash', 'sleep']);
    try {
      await applyTypeLimits(queues, { hash: { rate: { max: 10, durationMs: 1000 }, concurrency: 4 }, sleep: { concurrency: 2 } });
      expect((await typeItem('hash')).limits).toEqual({ rate: { max: 10, durationMs: 1000 }, concurrency: 4 });
      expect((await typeItem('sleep')).limits).toEqual({ concurrency: 2 });
      // A limit the configuration no longer gives is cleared in Redis, not left behind.
      const changes = await applyTypeLimits(queues, { sleep: { rate: { max: 1, durationMs: 60000 } } });
      // hash's two limits cleared; on each queue of sleep (each shard), its concurrency cleared and its rate set.
      expect(changes).toHaveLength(2 + 2 * ctx.keys.queuesOf('sleep').length);
      expect((await typeItem('hash')).limits).toEqual({});
      expect((await typeItem('sleep')).limits).toEqual({ rate: { max: 1, durationMs: 60000 } });
      expect(await applyTypeLimits(queues, { sleep: { rate: { max: 1, durationMs: 60000 } } })).toEqual([]);
      await applyTypeLimits(queues, {});
      expect((await typeItem('sleep')).limits).toEqual({});
    } finally {
      await Promise.all([...queues.values()].map((q) => q.close()));
    }
  });
});

describe('POST /types/:type/pause and /resume', () => {
  it("holds a paused type's jobs while the worker runs other types, and runs them once resumed", async () => {
    expect((await call(api.url, 'POST', '/types/echo/pause')).status).toBe(200);
    // Idempotent: pausing a paused type changes nothing.
    expect((await call(api.url, 'POST', '/types/echo/pause')).body.paused).toBe(true);
    const held = [await submit({ p: 1 }), await submit({ p: 2 })];
    // The worker is up and taking jobs: one of another type, submitted after, completes.
    const other = await call(api.url, 'POST', '/jobs?wait=20', { type: 'hash', data: { text: 'x' } });
    expect(other.body.state).toBe('completed');
    for (const id of held) {
      expect((await call(api.url, 'GET', `/jobs/${id}`)).body.state).toBe('queued');
      expect(runs.has(id)).toBe(false);
    }
    const resumed = await call(api.url, 'POST', '/types/echo/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ name: 'echo', paused: false });
    for (const id of held) expect((await ended(id)).body.state).toBe('completed');
  });

  it('answers 404 naming the known types for a type that is not registered', async () => {
    for (const action of ['pause', 'resume', 'retry-failed']) {
      const r = await call(api.url, 'POST', `/types/nope/${action}`);
      expect(r.status).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'not_found', message: 'no job type named "nope"' });
      expect(r.body.error.details[0].knownTypes).toContain('echo');
    }
    // Nothing was written for the unknown name.
    expect((await ctx.allKeys()).filter((k) => k.includes(':nope:'))).toEqual([]);
  });
});
