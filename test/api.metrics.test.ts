import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { call, startApi, useApi } from './api-harness';
import { createTestContext, testRedis, waitFor } from './helpers';
import { parse, value } from './prometheus-text';

// No worker runs in this file: submitted jobs stay in their queues.
const ctx = createTestContext();
const api = useApi(ctx);

async function scrape() {
  const r = await fetch(`${api.url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  return { text, samples: parse(text) };
}

const submitted = async (type: string) => value((await scrape()).samples, 'asyncjobs_jobs_submitted_total', { type });

describe('GET /metrics', () => {
  it('is Prometheus text with the process metrics', async () => {
    const { samples } = await scrape();
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('times requests by route pattern, never by raw URL', async () => {
    const job = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { n: 1 } });
    expect(job.status).toBe(202);
    await call(api.url, 'GET', `/jobs/${job.body.id}`);
    await call(api.url, 'GET', '/no/such/route');
    const { text, samples } = await scrape();
    const count = (labels: Record<string, string>) => value(samples, 'http_request_duration_seconds_count', labels);
    expect(count({ method: 'POST', route: '/jobs', status: '202' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'http_request_duration_seconds_bucket', { route: '/jobs', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(job.body.id);
    expect(text).not.toContain('/no/such/route');
  });

  it('labels a mounted app by its mount path however the client spells it, so no one can add label sets', async () => {
    for (const path of ['/admin/queues', '/ADMIN/queues', '/AdMiN/QUEUES', '/admin/Queues/api/queues']) await call(api.url, 'GET', path);
    const { samples } = await scrape();
    const routes = new Set(samples.filter((s) => s.name === 'http_request_duration_seconds_count').map((s) => s.labels.route));
    expect([...routes].filter((r) => r.toLowerCase().startsWith('/admin')).sort()).toEqual(['/admin/queues/*', '/admin/queues/api/queues']);
  });

  it('counts each accepted job once, and no rejected one', async () => {
    const before = await submitted('hash');
    expect((await call(api.url, 'POST', '/jobs', { type: 'hash', data: { text: 'a' } })).status).toBe(202);
    expect(await submitted('hash')).toBe(before + 1);
    expect((await call(api.url, 'POST', '/jobs', { type: 'hash', data: { text: 'a', rounds: 0 } })).status).toBe(400);
    expect((await call(api.url, 'POST', '/jobs', { type: 'hash', data: { text: 'a' }, options: { attempts: 0 } })).status).toBe(400);
    expect(await submitted('hash')).toBe(before + 1);
    expect((await call(api.url, 'POST', '/jobs', { type: 'hash', data: { text: 'b' } })).status).toBe(202);
    expect(await submitted('hash')).toBe(before + 2);
  });

  it('does not count as cancelled the removal of a job that had already completed', async () => {
    // An API of its own: no job of another test waits in its queue, so the one taken by hand is ours.
    const own = createTestContext();
    const ownApi = await startApi(own);
    const connection = testRedis({ maxRetriesPerRequest: null });
    try {
      const cancelled = async () => value(parse((await call(ownApi.url, 'GET', '/metrics')).body), 'asyncjobs_jobs_cancelled_total', { type: 'echo' });
      // Completed by hand (no worker runs here), then removed, as a cleanup or an operator would.
      const done = (await call(ownApi.url, 'POST', '/jobs', { type: 'echo', data: { done: true } })).body.id as string;
      const queue = ownApi.context.queues.get(own.keys.queueOf('echo', done))!;
      const taker = new Worker(queue.name, null, { connection, prefix: own.keys.prefixOf(queue.name) });
      try {
        expect((await taker.getNextJob('t'))?.id).toBe(done);
        await (await queue.getJob(done))!.moveToCompleted({ done: true }, 't', false);
      } finally {
        await taker.close();
      }
      await queue.remove(done);
      // A cancel of a queued job behind it in the same queue: once that is counted, the removal before it was seen too.
      const marker = (await call(ownApi.url, 'POST', '/jobs', { type: 'echo', data: { marker: true } })).body.id as string;
      expect((await call(ownApi.url, 'DELETE', `/jobs/${marker}`)).status).toBe(200);
      await waitFor(async () => (await cancelled()) >= 1);
      expect(await cancelled()).toBe(1);
    } finally {
      connection.disconnect();
      await ownApi.close();
      await own.cleanup();
    }
  });

  it('shows the queue depth by type and state', async () => {
    const depth = async (state: string) => value((await scrape()).samples, 'asyncjobs_queue_jobs', { type: 'sleep', state });
    expect(await depth('waiting')).toBe(0);
    expect((await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 1 } })).status).toBe(202);
    expect((await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 1 }, options: { delay: 60000 } })).status).toBe(202);
    expect(await depth('waiting')).toBe(1);
    expect(await depth('delayed')).toBe(1);
    expect(await depth('active')).toBe(0);
  });

  // The job counters, with workers and two APIs: metrics.sum-over-apis.test.ts.
  it('reads the waiter and stream gauges at scrape time', async () => {
    const { metrics } = api.context;
    let waiters = 3;
    metrics.trackWaiters(() => waiters);
    metrics.trackStreams(() => 2);
    let { samples } = await scrape();
    expect(value(samples, 'asyncjobs_longpoll_waiters', {})).toBe(3);
    expect(value(samples, 'asyncjobs_sse_streams', {})).toBe(2);
    waiters = 0;
    ({ samples } = await scrape());
    expect(value(samples, 'asyncjobs_longpoll_waiters', {})).toBe(0);
  });
});
