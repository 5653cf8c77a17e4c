import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { handlers } from '../apps/worker/src/handlers/index';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { call, useApi } from './api-harness';
import { createTestContext, listenToEvents, waitFor } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
const api = useApi(ctx);

/**
 * The built-in handlers, with an echo that fails for good when its data says `fail`, and runs
 * until it is stopped when it says `hold` (a long child in the default queue group, as a
 * flow's jobs must share one on a Cluster, where `sleep` may be in another).
 */
const failingEcho: JobHandler = {
  name: 'echo',
  run: (data: Record<string, unknown>, { signal, attempt }) => {
    if (data.fail) throw new UnrecoverableError(`told to fail: ${String(data.fail)}`);
    if (data.flaky) throw new Error(`flaky: ${String(data.flaky)}`);
    if (data.failFirst && attempt === 1) throw new UnrecoverableError(`told to fail its first attempt: ${String(data.failFirst)}`);
    if (data.hold) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    return data;
  },
};
const withFailingEcho = new Map([...handlers, ['echo', failingEcho]]);

async function withWorker<T>(run: (w: RunningWorker) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const worker = await startWorker(ctx, env, withFailingEcho);
  try {
    return await run(worker);
  } finally {
    await worker.close();
  }
}

const postFlow = (flow: unknown) => call(api.url, 'POST', '/flows', flow);
const get = async (id: string) => (await call(api.url, 'GET', `/jobs/${id}`)).body;
const final = async (id: string) => (await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body;
const once = { attempts: 1 };

describe('POST /flows', () => {
  it('runs a collect parent after its three children and gives it their results in the order given', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [
        { type: 'echo', data: { n: 1 } },
        { type: 'hash', data: { text: 'abc' } },
        { type: 'echo', data: { n: 3 } },
      ],
    });
    expect(r.status).toBe(202);
    const { id, jobs } = r.body;
    expect(jobs).toHaveLength(4);
    expect(jobs[0]).toMatchObject({ id, type: 'collect', state: 'waiting-children' });
    const kids = jobs.slice(1);
    expect(jobs[0].children).toEqual(kids.map((k: { id: string; type: string }) => ({ id: k.id, type: k.type, state: 'queued' })));
    for (const k of kids) expect(k.parent).toEqual({ id, type: 'collect' });

    // Read back from BullMQ, before any worker ran: the parent waits, its children are queued.
    const before = await get(id);
    expect(before.state).toBe('waiting-children');
    expect(before.children.map((c: { state: string }) => c.state)).toEqual(['queued', 'queued', 'queued']);
    expect((await get(kids[1].id)).parent).toEqual({ id, type: 'collect' });
    // Each job of the flow is listed and has its tombstone, as a job from POST /jobs has.
    const listed = (await call(api.url, 'GET', '/jobs?limit=100')).body.jobs.map((j: { id: string }) => j.id);
    for (const j of jobs) {
      expect(listed).toContain(j.id);
      expect(await ctx.redis.exists(ctx.keys.tombstone(j.type, j.id))).toBe(1);
    }

    const done = await withWorker(() => final(id));
    expect(done.state).toBe('completed');
    expect(done.result).toEqual({
      results: [
        { id: kids[0].id, type: 'echo', state: 'completed', result: { n: 1 } },
        { id: kids[1].id, type: 'hash', state: 'completed', result: { digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' } },
        { id: kids[2].id, type: 'echo', state: 'completed', result: { n: 3 } },
      ],
    });
    expect(done.children.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual(kids.map((k: { id: string }) => [k.id, 'completed']));
  });

  it('fails the parent when a child fails for good', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [
        { type: 'echo', data: { n: 1 }, options: once },
        { type: 'echo', data: { fail: 'child 2' }, options: once },
      ],
    });
    expect(r.status).toBe(202);
    const [root, ok, bad] = r.body.jobs;
    const end = await withWorker(async () => {
      expect((await final(bad.id)).state).toBe('failed');
      return final(root.id);
    });
    expect(end.state).toBe('failed');
    expect(end.result).toBeNull();
    // Named as the API names jobs, not by BullMQ's Redis key.
    expect(end.error.message).toBe(`child echo job ${bad.id} failed: told to fail: child 2`);
    expect(end.children).toEqual([
      { id: ok.id, type: 'echo', state: 'completed' },
      { id: bad.id, type: 'echo', state: 'failed' },
    ]);

    // BullMQ would run it again only to fail it with its own words: refused, and it stays as it was.
    const retry = await call(api.url, 'POST', `/jobs/${root.id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error.message).toBe(
      `its child echo job ${bad.id} failed for good; retry that child first (POST /jobs/${bad.id}/retry), and this job once it has completed, or submit the flow again`,
    );
    expect(await get(root.id)).toMatchObject({ state: 'failed', attempts: { made: 1 } });
  });

  it("gives a parent's error the reason of the child it failed because of, down a nested flow, in every read and on jobs:events", async () => {
    const { heard, close } = await listenToEvents(ctx);
    try {
      const r = await postFlow({
        type: 'collect',
        data: {},
        options: once,
        children: [{ type: 'collect', data: {}, options: once, children: [{ type: 'echo', data: { fail: 'deep' }, options: once }] }],
      });
      const [root, mid, leaf] = r.body.jobs;
      const midMessage = `child echo job ${leaf.id} failed: told to fail: deep`;
      const rootMessage = `child collect job ${mid.id} failed: ${midMessage}`;
      const end = await withWorker(() => final(root.id));
      expect(end).toMatchObject({ state: 'failed', error: { message: rootMessage } });
      expect((await get(mid.id)).error.message).toBe(midMessage);
      const listed = (await call(api.url, 'GET', '/jobs?type=collect')).body.jobs as { id: string; error: { message: string } }[];
      expect(listed.find((j) => j.id === root.id)?.error.message).toBe(rootMessage);
      const event = await waitFor(() => heard.find((e) => e.id === root.id && e.event === 'failed'), 15000, 10);
      expect(event.error?.message).toBe(rootMessage);
    } finally {
      await close();
    }
  });

  it('runs the parent anyway when the failing child set ignoreDependencyOnFailure, and tells it of the failure', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [
        { type: 'echo', data: { fail: 'ignored' }, options: once, ignoreDependencyOnFailure: true },
        { type: 'echo', data: { n: 2 } },
      ],
    });
    const [root, bad, ok] = r.body.jobs;
    const end = await withWorker(() => final(root.id));
    expect(end.state).toBe('completed');
    // BullMQ keeps the message only: the name is the child's own, as its resource says.
    expect(end.result.results).toEqual([
      { id: bad.id, type: 'echo', state: 'failed', error: { name: 'UnrecoverableError', message: 'told to fail: ignored' } },
      { id: ok.id, type: 'echo', state: 'completed', result: { n: 2 } },
    ]);
    expect((await call(api.url, 'GET', `/jobs/${bad.id}`)).body.error).toEqual(end.result.results[0].error);
  });

  it('tells the parent that a child cancelled while it ran was cancelled, as the child reads', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [
        { type: 'echo', data: { hold: true }, options: once, ignoreDependencyOnFailure: true },
        { type: 'echo', data: { n: 2 } },
      ],
    });
    const [root, slow] = r.body.jobs;
    const end = await withWorker(async () => {
      await waitFor(async () => (await get(slow.id)).state === 'active', 15000);
      expect((await call(api.url, 'DELETE', `/jobs/${slow.id}`)).status).toBe(202);
      return final(root.id);
    });
    expect(end.state).toBe('completed');
    expect(end.result.results[0]).toEqual({
      id: slow.id,
      type: 'echo',
      state: 'cancelled',
      error: { name: 'CancelledError', message: 'cancelled by request' },
    });
    expect((await get(slow.id)).state).toBe('cancelled');
  });

  it('nests: a parent two levels up gets the result of the collect below it', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [{ type: 'collect', data: {}, children: [{ type: 'echo', data: { deep: true } }] }],
    });
    const [root, mid, leaf] = r.body.jobs;
    expect(mid).toMatchObject({ state: 'waiting-children', parent: { id: root.id }, children: [{ id: leaf.id, state: 'queued' }] });
    const end = await withWorker(() => final(root.id));
    expect(end.result.results[0]).toMatchObject({ id: mid.id, state: 'completed', result: { results: [{ id: leaf.id, result: { deep: true } }] } });
  });

  it('cancels a parent with its children that have not run; one that completed stays completed', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [
        { type: 'hash', data: { text: 'runs' } },
        { type: 'echo', data: { never: 1 } },
        { type: 'collect', data: {}, children: [{ type: 'echo', data: { never: 2 } }] },
      ],
    });
    const [root, ran, pending, sub, subLeaf] = r.body.jobs;
    // Only hash jobs run here, so one child completes and the rest wait.
    await withWorker(async () => expect((await final(ran.id)).state).toBe('completed'), { WORKER_TYPES: 'hash' });

    const c = await call(api.url, 'DELETE', `/jobs/${root.id}`);
    expect(c.status).toBe(200);
    expect(c.body.state).toBe('cancelled');
    for (const k of [pending, sub, subLeaf]) expect(await get(k.id)).toMatchObject({ state: 'cancelled', error: { name: 'CancelledError' } });
    expect(await get(ran.id)).toMatchObject({ state: 'completed', result: { digest: expect.any(String) } });

    // A worker for every type now finds nothing of the flow left to run.
    await withWorker(async () => {
      const probe = (await call(api.url, 'POST', '/jobs', { type: 'echo', data: { probe: 1 } })).body.id;
      expect((await final(probe)).state).toBe('completed');
    });
    for (const k of [root, pending, sub, subLeaf]) expect((await get(k.id)).state).toBe('cancelled');
  });
});

describe('a flow whose child failed for good', () => {
  it('runs to its end once that child is retried and completes, then its parent is retried', async () => {
    const r = await postFlow({ type: 'collect', data: {}, children: [{ type: 'echo', data: { failFirst: 'c' }, options: once }] });
    const [root, child] = r.body.jobs;
    await withWorker(async () => {
      expect((await final(root.id)).state).toBe('failed');
      const refused = await call(api.url, 'POST', `/jobs/${root.id}/retry`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toBe(
        `its child echo job ${child.id} failed for good; retry that child first (POST /jobs/${child.id}/retry), and this job once it has completed, or submit the flow again`,
      );
      expect((await call(api.url, 'POST', `/jobs/${child.id}/retry`)).status).toBe(202);
      expect((await final(child.id)).state).toBe('completed');
      expect((await call(api.url, 'POST', `/jobs/${root.id}/retry`)).status).toBe(202);
      const done = await final(root.id);
      expect(done).toMatchObject({ state: 'completed', result: { results: [{ id: child.id, type: 'echo', state: 'completed', result: { failFirst: 'c' } }] } });
    });
  });
});

describe('a child waiting for its retry when its parent is cancelled', () => {
  it('keeps what its attempt left, as a job cancelled on its own between attempts does', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [{ type: 'echo', data: { flaky: 'once' }, options: { attempts: 3, backoff: { type: 'fixed', delay: 60000 } } }],
    });
    const [root, child] = r.body.jobs;
    await withWorker(() => waitFor(async () => (await get(child.id)).state === 'delayed'), { WORKER_TYPES: 'echo' });
    const before = await get(child.id);
    expect(before).toMatchObject({ attempts: { made: 1, max: 3 }, lastError: { message: 'flaky: once' } });

    expect((await call(api.url, 'DELETE', `/jobs/${root.id}`)).status).toBe(200);
    expect(await get(child.id)).toMatchObject({
      state: 'cancelled',
      attempts: { made: 1, max: 3 },
      startedAt: before.startedAt,
      error: { name: 'CancelledError', message: 'cancelled by request while it waited to be retried' },
      lastError: before.lastError,
    });
  });
});

describe('a child cancelled before it ran', () => {
  it('lets its parent run without it, and the parent is told it was cancelled', async () => {
    const r = await postFlow({
      type: 'collect',
      data: {},
      children: [
        { type: 'echo', data: { n: 1 } },
        { type: 'echo', data: { n: 2 } },
      ],
    });
    const [root, first, second] = r.body.jobs;
    expect((await call(api.url, 'DELETE', `/jobs/${first.id}`)).status).toBe(200);
    expect(await get(root.id)).toMatchObject({
      state: 'waiting-children',
      children: [
        { id: first.id, state: 'cancelled' },
        { id: second.id, state: 'queued' },
      ],
    });
    const end = await withWorker(() => final(root.id));
    expect(end.state).toBe('completed');
    expect(end.result.results).toEqual([
      { id: first.id, type: 'echo', state: 'cancelled', error: { name: 'CancelledError', message: 'the child was cancelled before it ran' } },
      { id: second.id, type: 'echo', state: 'completed', result: { n: 2 } },
    ]);
  });
});

describe('POST /flows refuses a bad tree and writes nothing', () => {
  const leaf = { type: 'echo', data: {} };
  const chain = (levels: number): Record<string, unknown> => (levels === 1 ? { ...leaf } : { type: 'collect', data: {}, children: [chain(levels - 1)] });

  async function refused(flow: unknown) {
    const before = new Set(await ctx.requestKeys());
    const r = await postFlow(flow);
    expect(r.status).toBe(400);
    expect((await ctx.requestKeys()).filter((k) => !before.has(k))).toEqual([]);
    return r.body.error;
  }

  it('refuses six levels, naming the node past the fifth', async () => {
    expect(await postFlow(chain(5)).then((r) => r.status)).toBe(202);
    const error = await refused(chain(6));
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([{ path: 'children.0.children.0.children.0.children.0.children.0', message: 'a flow has at most 5 levels' }]);
  });

  it('refuses 1001 jobs, naming the 1001st', async () => {
    const error = await refused({ type: 'collect', data: {}, children: Array.from({ length: 1000 }, () => leaf) });
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([{ path: 'children.999', message: 'a flow has at most 1000 jobs' }]);
  });

  it('names every bad node by its path', async () => {
    const error = await refused({
      type: 'collect',
      data: {},
      children: [leaf, { type: 'hash', data: { text: 1 } }, { type: 'collect', data: { x: 1 }, children: [{ type: 'sleep', data: { ms: -1 } }] }],
    });
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d: { path: string }) => d.path)).toEqual(['children.1.data.text', 'children.2.data', 'children.2.children.0.data.ms']);
  });

  it('answers unknown_type for a type that does not exist', async () => {
    const error = await refused({ type: 'collect', data: {}, children: [{ type: 'nope', data: {} }] });
    expect(error.code).toBe('unknown_type');
    expect(error.details[0].path).toBe('children.0.type');
  });

  it('needs children at the root', async () => {
    const error = await refused({ type: 'collect', data: {}, children: [] });
    expect(error.details).toEqual([{ path: 'children', message: 'a flow needs children: a non-empty array of jobs' }]);
  });
});
