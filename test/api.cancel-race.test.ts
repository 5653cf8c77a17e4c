import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelBeforeRetries } from '../apps/api/src/jobs/cancel-request';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, testRedis, waitFor } from './helpers';

/*
 * The moment between DELETE's read of a job and its removal, made deterministic: the
 * route's read is wrapped so that, once it has seen the job queued, a plain BullMQ worker
 * takes the job (and maybe finishes it) before the route goes on.
 */
const ctx = createTestContext();
const connection = testRedis({ maxRetriesPerRequest: null });
let api: RunningApi;
let manual: Worker;

beforeAll(async () => {
  api = await startApi(ctx);
  // No processor: jobs are taken and finished by hand, exactly when the test says.
  manual = new Worker('echo', null, { connection, prefix: ctx.keys.prefixOf('echo') });
  await manual.waitUntilReady();
});
afterAll(async () => {
  await manual.close();
  connection.disconnect();
  await api.close();
  await ctx.cleanup();
});

const submit = async (data: unknown, options?: unknown) => (await call(api.url, 'POST', '/jobs', { type: 'echo', data, options })).body.id as string;
/** The API's count of echo jobs that went back for another run: the relay has handled a retry once it grows. */
const retriedCount = async () => Number(/^asyncjobs_jobs_retried_total\{type="echo"\} (\d+)/m.exec((await call(api.url, 'GET', '/metrics')).body)?.[1] ?? 0);

/**
 * An operator's retry of failed job `id` (Bull Board, BullMQ's API), once the relay has
 * handled it (counted it) so that no worker takes the job before; the count before it.
 */
async function retryByHand(id: string): Promise<number> {
  const before = await retriedCount();
  await (await api.context.queues.get('echo')!.getJob(id))!.retry('failed');
  await waitFor(async () => (await retriedCount()) > before);
  return before;
}

/** Runs `meanwhile` right after the route's first read of `id` (which still sees it `seen`). */
function afterFirstRead(id: string, meanwhile: () => Promise<void>, seen = 'queued') {
  const store = api.context.store;
  const original = store.lookup;
  store.lookup = async (jobId, hint) => {
    const found = await original(jobId, hint);
    if (jobId === id) {
      store.lookup = original;
      expect(found.record?.state).toBe(seen);
      await meanwhile();
    }
    return found;
  };
}

describe('DELETE /jobs/:id racing a worker', () => {
  it('answers 409 for a job that completed after the cancel read it queued, and the job keeps its result', async () => {
    const id = await submit({ n: 1 });
    afterFirstRead(id, async () => {
      const job = await manual.getNextJob('tok-1');
      expect(job?.id).toBe(id);
      await job!.moveToCompleted({ done: true }, 'tok-1', false);
    });
    const r = await call(api.url, 'DELETE', `/jobs/${id}`);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'conflict', message: 'the job is already completed' });
    const after = await call(api.url, 'GET', `/jobs/${id}`);
    expect(after.body).toMatchObject({ state: 'completed', result: { done: true } });
  });

  it('takes a job a worker picked up after the read down the running-job path (202), and leaves it to that worker', async () => {
    const id = await submit({ n: 2 });
    afterFirstRead(id, async () => {
      expect((await manual.getNextJob('tok-2'))?.id).toBe(id);
    });
    const r = await call(api.url, 'DELETE', `/jobs/${id}`);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id, state: 'active' });
    const job = await api.context.queues.get('echo')!.getJob(id);
    await job!.moveToCompleted({ done: 2 }, 'tok-2', false);
    expect((await call(api.url, 'GET', `/jobs/${id}`)).body).toMatchObject({ state: 'completed', result: { done: 2 } });
  });

  it('cancels for good a running job whose attempt failed after the read: it waits for its retry, which never comes', async () => {
    const id = await submit({ n: 4 }, { attempts: 3, backoff: { type: 'fixed', delay: 120_000 } });
    expect((await manual.getNextJob('tok-4'))?.id).toBe(id);
    afterFirstRead(
      id,
      async () => {
        const job = await api.context.queues.get('echo')!.getJob(id);
        const err = new Error('flaky upstream');
        err.stack = 'UpstreamError: flaky upstream\n    at fetchQuote (quotes.js:1:1)';
        await job!.moveToFailed(err, 'tok-4', false);
        expect(await job!.getState()).toBe('delayed');
      },
      'active',
    );
    const r = await call(api.url, 'DELETE', `/jobs/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id,
      state: 'cancelled',
      attempts: { made: 1, max: 3 },
      error: { name: 'CancelledError', message: 'cancelled by request while it waited to be retried' },
      lastError: { name: 'UpstreamError', message: 'flaky upstream' },
    });
    expect(r.body.startedAt).not.toBeNull();
    expect((await call(api.url, 'GET', `/jobs/${id}`)).body).toEqual(r.body);
    // Not in the delayed set, where the retry would have come from.
    expect(await api.context.queues.get('echo')!.getJob(id)).toBeUndefined();
  });

  it('cancels a running job whose worker missed the cancel, once its failed attempt goes back for a retry', async () => {
    // A long backoff: the retry comes long after workers forget a cancel they could not match.
    const id = await submit({ n: 5 }, { attempts: 3, backoff: { type: 'fixed', delay: 120_000 } });
    const job = await manual.getNextJob('tok-5');
    expect(job?.id).toBe(id);
    // The manual worker does not listen for cancels: the message reaches nobody.
    const r = await call(api.url, 'DELETE', `/jobs/${id}`);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id, state: 'active' });
    await job!.moveToFailed(new Error('flaky upstream'), 'tok-5', false);
    const ended = await waitFor(async () => {
      const b = (await call(api.url, 'GET', `/jobs/${id}`)).body;
      return b.state === 'cancelled' ? b : null;
    });
    expect(ended).toMatchObject({
      attempts: { made: 1, max: 3 },
      error: { name: 'CancelledError', message: 'cancelled by request while it waited to be retried' },
      lastError: { message: 'flaky upstream' },
    });
    expect(await api.context.queues.get('echo')!.getJob(id)).toBeUndefined();
  });

  it('answers 200 when the relay cancelled the job first, at the retry it saw after the cancel was noted', async () => {
    const id = await submit({ n: 7 }, { attempts: 3, backoff: { type: 'fixed', delay: 120_000 } });
    const job = await manual.getNextJob('tok-7');
    expect(job?.id).toBe(id);
    // The attempt fails while DELETE reads the job; the relay's turn comes between the route's broadcast and its own try.
    afterFirstRead(id, () => job!.moveToFailed(new Error('flaky upstream'), 'tok-7', false).then(() => undefined), 'active');
    const { redis, keys, config } = api.context;
    const publish = redis.publish.bind(redis);
    redis.publish = (async (channel: string, message: string) => {
      redis.publish = publish;
      const n = await publish(channel, message);
      await cancelBeforeRetries({ redis, keys, config }, [{ type: 'echo', id }]);
      return n;
    }) as typeof redis.publish;
    const r = await call(api.url, 'DELETE', `/jobs/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, state: 'cancelled', error: { name: 'CancelledError', message: 'cancelled by request while it waited to be retried' } });
  });

  it('leaves alone a job retried by hand after it failed, though a cancel was asked for while it ran', async () => {
    const id = await submit({ n: 6 }, { attempts: 1 });
    const job = await manual.getNextJob('tok-6');
    expect(job?.id).toBe(id);
    expect((await call(api.url, 'DELETE', `/jobs/${id}`)).status).toBe(202);
    await job!.moveToFailed(new Error('gave up'), 'tok-6', false);
    expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=5`)).body.state).toBe('failed');
    // An operator's retry (Bull Board, BullMQ's API) is a decision taken after the cancel.
    await retryByHand(id);
    expect(await api.context.queues.get('echo')!.getJob(id)).toBeDefined();
    const again = await manual.getNextJob('tok-6b');
    expect(again?.id).toBe(id);
    await again!.moveToCompleted({ done: 6 }, 'tok-6b', false);
    expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=5`)).body).toMatchObject({ state: 'completed', result: { done: 6 } });
  });

  it('does not cancel the retries of a run an operator started after the cancelled run ended', async () => {
    const id = await submit({ n: 8 }, { attempts: 3, backoff: { type: 'fixed', delay: 120_000 } });
    const job = await manual.getNextJob('tok-8');
    expect(job?.id).toBe(id);
    expect((await call(api.url, 'DELETE', `/jobs/${id}`)).status).toBe(202);
    // The cancelled run ends by a failure of its own that is not retried.
    await job!.moveToFailed(new UnrecoverableError('gave up'), 'tok-8', false);
    expect((await call(api.url, 'GET', `/jobs/${id}/result?wait=5`)).body.state).toBe('failed');
    const before = await retryByHand(id);
    const again = await manual.getNextJob('tok-8b');
    expect(again?.id).toBe(id);
    // The new run's first attempt fails and goes back for a retry: that retry is the new run's own.
    await again!.moveToFailed(new Error('second run fails'), 'tok-8b', false);
    await waitFor(async () => (await retriedCount()) > before + 1);
    const r = await call(api.url, 'GET', `/jobs/${id}`);
    expect(r.body).toMatchObject({ state: 'delayed', lastError: { message: 'second run fails' } });
    expect(await api.context.queues.get('echo')!.getJob(id)).toBeDefined();
  });

  it('counts the attempt a worker holds: GET of a running job shows attempts.made 1, and 1 still once it completed', async () => {
    const id = await submit({ n: 9 }, { attempts: 3 });
    expect((await manual.getNextJob('tok-9'))?.id).toBe(id);
    expect((await call(api.url, 'GET', `/jobs/${id}`)).body).toMatchObject({ id, state: 'active', attempts: { made: 1, max: 3 } });
    await (await api.context.queues.get('echo')!.getJob(id))!.moveToCompleted({ done: 9 }, 'tok-9', false);
    expect((await call(api.url, 'GET', `/jobs/${id}`)).body).toMatchObject({ state: 'completed', attempts: { made: 1, max: 3 } });
  });

  it('still cancels a job nobody took with 200', async () => {
    const id = await submit({ n: 3 });
    const r = await call(api.url, 'DELETE', `/jobs/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, state: 'cancelled', error: { name: 'CancelledError' } });
    expect(await api.context.queues.get('echo')!.getJob(id)).toBeUndefined();
  });
});
