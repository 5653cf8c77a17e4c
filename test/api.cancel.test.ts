import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, waitFor, watchEvents, type EventWatch } from './helpers';
import { spawnWorker, startWorker } from './worker-harness';

const ctx = createTestContext();
let api: RunningApi;
let watch: EventWatch;

beforeAll(async () => {
  api = await startApi(ctx);
  watch = await watchEvents(ctx);
});
afterAll(async () => {
  await watch.close();
  await api.close();
  await ctx.cleanup();
});

const submit = async (type: string, data: unknown, options?: unknown) => (await call(api.url, 'POST', '/jobs', { type, data, options })).body.id as string;
const cancel = (id: string) => call(api.url, 'DELETE', `/jobs/${id}`);
const finalState = async (id: string) => (await call(api.url, 'GET', `/jobs/${id}/result?wait=20`)).body;

describe('DELETE /jobs/:id', () => {
  it('cancels queued and delayed jobs with 200, and they never run', async () => {
    const queued = await submit('echo', { q: 1 });
    const delayed = await submit('echo', { d: 1 }, { delay: 60000 });
    for (const id of [queued, delayed]) {
      const r = await cancel(id);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id, state: 'cancelled' });
      expect(r.body.finishedAt).toBeTruthy();
      expect(await api.context.queues.get(api.context.keys.queueOf('echo', id))!.getJob(id)).toBeUndefined();
    }
    const worker = await startWorker(ctx);
    try {
      const probe = await submit('echo', { probe: true });
      expect((await finalState(probe)).state).toBe('completed');
      for (const id of [queued, delayed]) {
        expect((await call(api.url, 'GET', `/jobs/${id}`)).body.state).toBe('cancelled');
        await watch.terminal(id);
        expect(watch.of(id).map((e) => e.event)).toEqual(['submitted', 'cancelled']);
      }
    } finally {
      await worker.close();
    }
  });

  it('answers 409 for a job that already ended, and 404 for an unknown one', async () => {
    const worker = await startWorker(ctx);
    try {
      const id = await submit('echo', {});
      expect((await finalState(id)).state).toBe('completed');
      const r = await cancel(id);
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('conflict');
      expect((await cancel('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    } finally {
      await worker.close();
    }
  });

  it('stops a running sleep on another worker process with 202; it ends cancelled, without retry', async () => {
    const proc = spawnWorker(ctx, { LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' });
    try {
      await proc.line((l) => l.msg === 'worker ready');
      const id = await submit('sleep', { ms: 20000 }, { attempts: 3 });
      await watch.next((e) => e.id === id && e.event === 'active');
      const r = await cancel(id);
      expect(r.status).toBe(202);
      const end = await finalState(id);
      expect(end.state).toBe('cancelled');
      expect(end.error).toEqual({ name: 'CancelledError', message: 'cancelled by request' });
      expect(end.attempts.made).toBe(1);
      expect(watch.of(id).some((e) => e.event === 'retrying' || e.event === 'completed')).toBe(false);
      await proc.line((l) => l.jobId === id && l.msg === 'job cancelled');
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  });

  it('cancels each job exactly once when it races a worker picking it up', async () => {
    const worker = await startWorker(ctx, { WORKER_CONCURRENCY: '20' });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, async () => {
          const id = await submit('sleep', { ms: 30 });
          const r = await cancel(id);
          return { id, status: r.status, end: await finalState(id) };
        }),
      );
      for (const { id, status, end } of outcomes) {
        const terminal = await watch.terminal(id);
        await waitFor(() => watch.of(id).length >= 2);
        expect(watch.of(id).filter((e) => ['completed', 'failed', 'cancelled'].includes(e.event))).toHaveLength(1);
        if (status === 200) expect(end.state).toBe('cancelled');
        else if (status === 409) expect(end.state).toBe('completed');
        else expect(status).toBe(202);
        expect(terminal.event).toBe(end.state);
      }
      // The race went both ways at least once in 40 tries, or the test proves little.
      expect(new Set(outcomes.map((o) => o.status)).size).toBeGreaterThan(1);
    } finally {
      await worker.close();
    }
  });
});
