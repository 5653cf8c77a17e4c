import { describe, expect, it } from 'vitest';
import { call, startApi, untilEchoJobRemoved } from './api-harness';
import { countingLookups, createTestContext, waitFor } from './helpers';
import { useSystem } from './system-harness';
import { startWorker } from './worker-harness';

const sys = useSystem();

const submit = async (ms: number) => (await call(sys.api.url, 'POST', '/jobs', { type: 'sleep', data: { ms } })).body.id as string;

describe('GET /jobs/:id/result?wait=S', () => {
  it('answers 200 as soon as the job completes, well before the wait is over', async () => {
    const id = await submit(300);
    const started = Date.now();
    const r = await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=25`);
    expect(r.status).toBe(200);
    expect(r.body.result).toEqual({ sleptMs: 300 });
    expect(Date.now() - started).toBeLessThan(20000);
  });

  it('answers 202 with the current state when the wait expires first', async () => {
    const id = await submit(10000);
    const r = await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=0.5`);
    expect(r.status).toBe(202);
    expect(['queued', 'active']).toContain(r.body.state);
    expect(sys.api.context.notifier.watcherCount()).toBe(0);
  });

  it('answers at once, cancelled, when an operator removes the job while the request is held', async () => {
    // Delayed, so that no worker takes it meanwhile.
    const sub = await call(sys.api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 1 }, options: { delay: 60000 } });
    const id = sub.body.id as string;
    const held = call(sys.api.url, 'GET', `/jobs/${id}/result?wait=20`);
    await waitFor(() => sys.api.context.notifier.watcherCount() >= 1);
    await sys.api.context.queues.get(sys.ctx.keys.queueOf('sleep', id))!.remove(id);
    const r = await held;
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, state: 'cancelled', error: { name: 'RemovedError' } });
    expect((await call(sys.api.url, 'GET', `/jobs/${id}`)).body.state).toBe('cancelled');
  });

  it('holds one in-memory watcher per waiting request, all woken by one event', async () => {
    const id = await submit(1000);
    const polls = Array.from({ length: 50 }, () => call(sys.api.url, 'GET', `/jobs/${id}/result?wait=25`));
    await waitFor(() => sys.api.context.notifier.watcherCount() >= 50);
    const replies = await Promise.all(polls);
    expect(replies.every((r) => r.status === 200 && r.body.state === 'completed')).toBe(true);
    expect(sys.api.context.notifier.watcherCount()).toBe(0);
  });

  it('frees the waiter of a client that disconnects early', async () => {
    // Delayed, so that the job cannot end (and free the waiter itself) while the test runs.
    const id = (await call(sys.api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 1 }, options: { delay: 60000 } })).body.id as string;
    const abort = new AbortController();
    const pending = fetch(`${sys.api.url}/jobs/${id}/result?wait=25`, { signal: abort.signal }).catch((e: Error) => e);
    await waitFor(() => sys.api.context.notifier.watcherCount() === 1);
    const gauge = async () => {
      const text = (await call(sys.api.url, 'GET', '/metrics')).body as string;
      return Number(/^asyncjobs_longpoll_waiters (\d+)/m.exec(text)?.[1]);
    };
    expect(await gauge()).toBe(1);
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitFor(async () => (await gauge()) === 0, 2000);
    expect(sys.api.context.notifier.watcherCount()).toBe(0);
    expect((await call(sys.api.url, 'DELETE', `/jobs/${id}`)).status).toBe(200);
  });

  it('answers with what GET /jobs/:id says: read once on entry, the job then comes read with its ending event', async () => {
    // While few wait, the stream read that brings the ending event also reads the waiting jobs
    // (in the same round trip): the waiter's own lookup runs once, on entry, whatever the result's size.
    await countingLookups(sys.api.context.store, async (reads) => {
      for (const data of [{ small: true }, { big: 'x'.repeat(6000) }]) {
        // Held back until the long-poll has read the job and waits; then let it run.
        const id = (await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data, options: { delay: 60000 } })).body.id as string;
        const reply = call(sys.api.url, 'GET', `/jobs/${id}/result?wait=25`);
        await waitFor(() => reads.get(id) === 1 && sys.api.context.notifier.watcherCount('poll') === 1);
        await (await sys.api.context.queues.get(sys.ctx.keys.queueOf('echo', id))!.getJob(id))!.promote();
        const r = await reply;
        expect(r.status).toBe(200);
        expect(r.body.result).toEqual(data);
        expect(reads.get(id)).toBe(1);
        expect(r.body).toEqual((await call(sys.api.url, 'GET', `/jobs/${id}`)).body);
      }
    });
  });

  it('with many waiting, the jobs their ending events name are read together once, not by each waiter', async () => {
    const store = sys.api.context.store;
    const readPeeks = store.readPeeks;
    const batches: string[][] = [];
    store.readPeeks = (peeks) => {
      batches.push(peeks.map((p) => p.key));
      return readPeeks(peeks);
    };
    try {
      await countingLookups(sys.api.context.store, async (reads) => {
        const submit = async (data: object) => (await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data, options: { delay: 60000 } })).body.id as string;
        const hold = (id: string, n: number) => Array.from({ length: n }, () => call(sys.api.url, 'GET', `/jobs/${id}/result?wait=25`));
        const promote = async (id: string) => (await sys.api.context.queues.get(sys.ctx.keys.queueOf('echo', id))!.getJob(id))!.promote();
        const ids = [await submit({ many: 0 }), await submit({ many: 1 }), await submit({ many: 2 })];
        // More waiters than are read behind each stream read, and so while any of the three
        // ends: nine on a job that ends last, and four on each of the three.
        const last = await submit({ last: true });
        const lastReplies = hold(last, 9);
        const replies = ids.flatMap((id) => hold(id, 4));
        await waitFor(() => ids.every((id) => reads.get(id) === 4) && reads.get(last) === 9 && sys.api.context.notifier.watcherCount('poll') === 21);
        await Promise.all(ids.map(promote));
        const all = await Promise.all(replies);
        expect(all.every((r) => r.status === 200 && r.body.state === 'completed')).toBe(true);
        expect(all.map((r) => r.body.result.many).sort()).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
        // Each waiter read its job on entry only; each job was read once more, for all its waiters.
        for (const id of ids) expect(reads.get(id)).toBe(4);
        const readKeys = batches.flat();
        for (const id of ids) expect(readKeys.filter((k) => k.endsWith(`:${id}`))).toHaveLength(1);
        await promote(last);
        expect((await Promise.all(lastReplies)).map((r) => r.status)).toEqual(Array(9).fill(200));
      });
    } finally {
      store.readPeeks = readPeeks;
    }
  });

  it('rejects a wait outside 0–30 seconds with 400', async () => {
    const id = await submit(1);
    for (const w of ['31', '-1', 'soon']) {
      const r = await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=${w}`);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
      expect(r.body.error.details[0].path).toBe('wait');
    }
  });

  it('answers 410 expired once the record is past its TTL, and 404 for an id never seen', async () => {
    const short = createTestContext();
    const shortApi = await startApi(short, { RESULT_TTL_SECONDS: '1' });
    const shortWorker = await startWorker(short, { RESULT_TTL_SECONDS: '1' });
    try {
      const sub = await call(shortApi.url, 'POST', '/jobs', { type: 'echo', data: {} });
      const done = await call(shortApi.url, 'GET', `/jobs/${sub.body.id}/result?wait=10`);
      expect(done.status).toBe(200);
      // BullMQ applies its retention by age when a later job of the queue finishes.
      await untilEchoJobRemoved(shortApi, short, sub.body.id);
      const gone = await call(shortApi.url, 'GET', `/jobs/${sub.body.id}`);
      expect(gone.status).toBe(410);
      expect(gone.body.error.code).toBe('expired');
      expect((await call(shortApi.url, 'GET', `/jobs/${sub.body.id}/result`)).status).toBe(410);
      expect((await call(shortApi.url, 'GET', '/jobs/5b2f1c9e-1111-4111-8111-111111111111')).status).toBe(404);
    } finally {
      await shortWorker.close();
      await shortApi.close();
      await short.cleanup();
    }
  });
});
