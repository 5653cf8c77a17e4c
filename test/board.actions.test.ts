import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type Reply } from './api-harness';
import { listenToEvents, waitFor } from './helpers';
import { parse, value } from './prometheus-text';
import { readStream } from './sse-client';
import { useSystem } from './system-harness';

/**
 * Bull Board's write actions, sent to Bull Board's own HTTP API as its UI sends them:
 * whatever BullMQ then holds is what the job API shows, to a reader and to waiters.
 */

/** A local endpoint for `http.request` jobs: answers 503 while `down`, and holds each request until released. */
let down = true;
const heldRequests: Array<() => void> = [];
const target = http.createServer((req, res) => {
  req.resume();
  if (down) return void res.writeHead(503).end();
  heldRequests.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
});
let targetUrl = '';
beforeAll(async () => {
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  for (const release of heldRequests.splice(0)) release();
  target.closeAllConnections();
  await new Promise((r) => target.close(r));
});

// HTTP_ALLOWED_HOSTS takes a bare host for every port: the target's port is not known yet.
const sys = useSystem({ HTTP_ALLOWED_HOSTS: '127.0.0.1' });

const board = (method: string, path: string, body?: unknown) => call(sys.api.url, method, `/admin/queues/api/queues/${path}`, body);
const job = async (id: string) => (await call(sys.api.url, 'GET', `/jobs/${id}`)).body;
const submit = async (type: string, data: unknown, options: Record<string, unknown> = {}) => {
  const r = await call(sys.api.url, 'POST', '/jobs', { type, data, options });
  expect(r.status).toBe(202);
  return r.body.id as string;
};

/** A held long-poll and an open SSE stream on the job, resolved once both are in place. */
async function waiters(id: string): Promise<{ poll: Promise<Reply>; stream: ReturnType<typeof readStream> }> {
  const before = sys.api.context.notifier.watcherCount();
  const poll = call(sys.api.url, 'GET', `/jobs/${id}/result?wait=10`);
  const stream = readStream(`${sys.api.url}/jobs/${id}/events`);
  await waitFor(() => sys.api.context.notifier.watcherCount() >= before + 2);
  return { poll, stream };
}

/** Both waiters ended with the job as `GET /jobs/:id` shows it now, and the stream's last event names its state. */
async function expectEndedWith(id: string, w: Awaited<ReturnType<typeof waiters>>, expected: Record<string, unknown>) {
  const [poll, stream] = await Promise.all([w.poll, w.stream]);
  const now = await job(id);
  expect(now).toMatchObject(expected);
  expect(poll.status).toBe(200);
  expect(poll.body).toMatchObject(expected);
  expect(stream.status).toBe(200);
  const last = stream.events.at(-1)!;
  expect(last.event).toBe(now.state);
  expect(last.data).toMatchObject(expected);
}

const removed = { state: 'cancelled', error: { name: 'RemovedError' } };

/** The API's count of jobs of `type` that went back for another attempt (README "Metrics"). */
async function retriedTotal(type: string): Promise<number> {
  const r = await fetch(`${sys.api.url}/metrics`);
  return value(parse(await r.text()), 'asyncjobs_jobs_retried_total', { type }) ?? 0;
}

describe('Bull Board write actions', () => {
  it('retry of a failed job: the job runs again and reads completed, also to waiters', async () => {
    down = true;
    const id = await submit('http.request', { url: targetUrl }, { attempts: 1 });
    await waitFor(async () => (await job(id)).state === 'failed');

    down = false;
    const retried = await board('PUT', `http.request/${id}/retry`);
    expect(retried.status).toBe(204);
    // The retried attempt is now held by the target: the job is active again.
    await waitFor(() => heldRequests.length === 1);
    expect(await job(id)).toMatchObject({ state: 'active', result: null });
    const w = await waiters(id);
    heldRequests.shift()!();
    await expectEndedWith(id, w, { state: 'completed', result: { status: 200, body: { ok: true } } });
    // The API's own retry agrees: a completed job is not retried (409 for its state, not a stale one).
    expect((await call(sys.api.url, 'POST', `/jobs/${id}/retry`)).status).toBe(409);
  });

  it('update-data then retry of a completed job: it runs on the new data and shows the new result', async () => {
    const id = await submit('echo', { v: 1 });
    await waitFor(async () => (await job(id)).state === 'completed');
    expect((await job(id)).result).toEqual({ v: 1 });

    // Paused (from the Board too), so that the retried job waits in the queue while the waiters start.
    // The Board shows each shard of a sharded echo as a queue: this job's is the one to act on.
    const q = encodeURIComponent(sys.ctx.keys.queueOf('echo', id));
    expect((await board('PUT', `${q}/pause`)).status).toBe(200);
    try {
      expect((await board('PATCH', `${q}/${id}/update-data`, { jobData: { v: 2 } })).status).toBe(200);
      expect((await board('PUT', `${q}/${id}/retry`)).status).toBe(204);
      expect(await job(id)).toMatchObject({ state: 'queued', result: null });
      const w = await waiters(id);
      expect((await board('PUT', `${q}/resume`)).status).toBe(200);
      await expectEndedWith(id, w, { state: 'completed', result: { v: 2 } });
    } finally {
      await board('PUT', `${q}/resume`);
    }
  });

  it('retry of a completed job: jobs:events announces it retrying before it completes again', async () => {
    const listener = await listenToEvents(sys.ctx);
    try {
      const id = await submit('echo', { again: true });
      const ended = () => listener.heard.filter((e) => e.id === id && e.event === 'completed').length;
      await waitFor(() => ended() === 1);
      expect((await board('PUT', `${encodeURIComponent(sys.ctx.keys.queueOf('echo', id))}/${id}/retry`)).status).toBe(204);
      await waitFor(() => ended() === 2);
      const seen = listener.heard.filter((e) => e.id === id).map((e) => e.event);
      // After its first ending: the retry, then the run it starts.
      expect(seen.slice(seen.indexOf('completed') + 1)).toEqual(['retrying', 'active', 'completed']);
      expect(listener.heard.find((e) => e.id === id && e.event === 'retrying')).toMatchObject({ state: 'queued' });
    } finally {
      await listener.close();
    }
  });

  it('promote of a delayed job: it runs now, and waiters get its result', async () => {
    const id = await submit('echo', { promoted: true }, { delay: 3_600_000 });
    expect((await job(id)).state).toBe('delayed');
    const w = await waiters(id);
    expect((await board('PUT', `${encodeURIComponent(sys.ctx.keys.queueOf('echo', id))}/${id}/promote`)).status).toBe(204);
    await expectEndedWith(id, w, { state: 'completed', result: { promoted: true } });
  });

  it('reschedule of a delayed job: it runs at its new time, and nothing tells of a retry', async () => {
    const listener = await listenToEvents(sys.ctx);
    try {
      const retriedBefore = await retriedTotal('echo');
      const id = await submit('echo', { rescheduled: true }, { delay: 3_600_000 });
      const queue = encodeURIComponent(sys.ctx.keys.queueOf('echo', id));
      // BullMQ's changeDelay logs the same `delayed` entry as an attempt's retry with backoff.
      expect((await board('PATCH', `${queue}/${id}/delay`, { runAt: Date.now() + 200 })).status).toBe(200);
      await waitFor(() => listener.heard.some((e) => e.id === id && e.event === 'completed'));
      expect(listener.heard.filter((e) => e.id === id).map((e) => e.event)).toEqual(['submitted', 'active', 'completed']);
      expect(await job(id)).toMatchObject({ state: 'completed', attempts: { made: 1 }, result: { rescheduled: true } });
      expect(await retriedTotal('echo')).toBe(retriedBefore);
    } finally {
      await listener.close();
    }
  });

  it('reschedule of a job waiting out its backoff: one retrying, for the attempt that failed', async () => {
    const listener = await listenToEvents(sys.ctx);
    try {
      down = true;
      // The relay takes a job that started within a second of its first entry of the queue's stream
      // for one it may not have seen start, and its reschedule for a retry (delayed-entries.ts).
      const stream = sys.ctx.keys.events(sys.ctx.keys.queueOf('http.request', 'any'));
      if ((await sys.ctx.redis.xlen(stream)) === 0) await sys.ctx.redis.xadd(stream, '*', 'event', 'test-nudge');
      const [[first]] = (await sys.ctx.redis.xrange(stream, '-', '+', 'COUNT', 1)) as [string, string[]][];
      await waitFor(() => Date.now() > Number(first.split('-')[0]) + 1100, 5000);
      const retriedBefore = await retriedTotal('http.request');
      const id = await submit('http.request', { url: targetUrl }, { attempts: 2, backoff: { type: 'fixed', delay: 3_600_000 } });
      await waitFor(() => listener.heard.some((e) => e.id === id && e.event === 'retrying'));
      down = false;
      const queue = encodeURIComponent(sys.ctx.keys.queueOf('http.request', id));
      expect((await board('PATCH', `${queue}/${id}/delay`, { runAt: Date.now() + 200 })).status).toBe(200);
      await waitFor(() => heldRequests.length === 1);
      heldRequests.shift()!();
      await waitFor(() => listener.heard.some((e) => e.id === id && e.event === 'completed'));
      expect(listener.heard.filter((e) => e.id === id).map((e) => e.event)).toEqual(['submitted', 'active', 'retrying', 'active', 'completed']);
      expect(listener.heard.find((e) => e.id === id && e.event === 'retrying')).toMatchObject({ state: 'delayed', error: { name: 'HttpStatusError' } });
      expect(await retriedTotal('http.request')).toBe(retriedBefore + 1);
    } finally {
      down = true;
      await listener.close();
    }
  });

  it('clean of the delayed jobs: the job reads cancelled by RemovedError and its waiters are answered at once', async () => {
    const id = await submit('echo', {}, { delay: 3_600_000 });
    // The Board cleans only jobs older than its 5 s grace: make this one older rather than wait.
    const queue = sys.ctx.keys.queueOf('echo', id);
    const hash = sys.api.context.queues.get(queue)!.toKey(id);
    await sys.ctx.redis.hset(hash, 'timestamp', String(Date.now() - 60_000));
    const w = await waiters(id);
    expect((await board('PUT', `${encodeURIComponent(queue)}/clean/delayed`)).status).toBe(200);
    await expectEndedWith(id, w, removed);
  });

  it('remove of one job: it reads cancelled by RemovedError and its waiters are answered at once', async () => {
    const id = await submit('sleep', { ms: 1 }, { delay: 3_600_000 });
    const w = await waiters(id);
    expect((await board('PUT', `${encodeURIComponent(sys.ctx.keys.queueOf('sleep', id))}/${id}/clean`)).status).toBe(204);
    await expectEndedWith(id, w, removed);
    expect((await job(id)).error.message).toMatch(/removed/);
  });

  it('empty of a queue: its queued job reads cancelled by RemovedError, its delayed job stays delayed (as BullMQ keeps it)', async () => {
    // Paused, so that the worker does not take the queued job first (every shard of a sharded type).
    const sleepQueues = sys.ctx.keys.queuesOf('sleep').map(encodeURIComponent);
    for (const q of sleepQueues) expect((await board('PUT', `${q}/pause`)).status).toBe(200);
    try {
      const queued = await submit('sleep', { ms: 1 });
      // The Board empties one queue: the queued job's, which must hold the delayed one too.
      const queue = encodeURIComponent(sys.ctx.keys.queueOf('sleep', queued));
      let delayed = await submit('sleep', { ms: 1 }, { delay: 3_600_000 });
      for (let i = 0; i < 30 && encodeURIComponent(sys.ctx.keys.queueOf('sleep', delayed)) !== queue; i++) {
        delayed = await submit('sleep', { ms: 1 }, { delay: 3_600_000 });
      }
      expect(encodeURIComponent(sys.ctx.keys.queueOf('sleep', delayed))).toBe(queue);
      expect((await job(queued)).state).toBe('queued');
      const w = await waiters(queued);
      // A second API process: BullMQ's drain logs no event per job, yet its waiter hears too.
      const other = await startApi(sys.ctx);
      try {
        // A stream, not a long-poll: a long-poll reads the job again when its wait ends anyway.
        const otherStream = readStream(`${other.url}/jobs/${queued}/events`, {}, AbortSignal.timeout(8000));
        await waitFor(() => other.context.notifier.watcherCount() >= 1);
        // The Board empties with BullMQ's drain(), which keeps delayed jobs.
        expect((await board('PUT', `${queue}/empty`)).status).toBe(200);
        await expectEndedWith(queued, w, removed);
        const heard = await otherStream;
        expect(heard.events.at(-1)).toMatchObject({ event: 'cancelled' });
      } finally {
        await other.close();
      }
      expect((await job(delayed)).state).toBe('delayed');
      const listed = await call(sys.api.url, 'GET', '/jobs?type=sleep&state=queued');
      expect(listed.status).toBe(200);
      expect(listed.body.jobs.map((j: { id: string }) => j.id)).not.toContain(queued);
    } finally {
      for (const q of sleepQueues) await board('PUT', `${q}/resume`);
    }
  });
});
