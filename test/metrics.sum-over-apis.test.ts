import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { serveMetrics, type MetricsServer } from '../apps/worker/src/metrics/server';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, waitFor } from './helpers';
import { hasPromtool, parse, promtoolCheck, sumOf, value, type Sample } from './prometheus-text';
import { startWorker, type RunningWorker } from './worker-harness';

// Two APIs on one namespace stand for two API processes: each has its own connections,
// stream reader, relay and registry, as a process would.
const ctx = createTestContext();
let apis: RunningApi[];
let worker: RunningWorker;
let workerMetrics: MetricsServer;

/** `echo` that fails when its data says so: always, or on its first run only. */
const runs = new Map<string, number>();
const echo: JobHandler = {
  name: 'echo',
  run(data: { fail?: boolean; failFirst?: boolean }, hctx) {
    const n = (runs.get(hctx.jobId) ?? 0) + 1;
    runs.set(hctx.jobId, n);
    if (data.fail || (data.failFirst && n === 1)) throw new Error('asked to fail');
    return { run: n };
  },
};

beforeAll(async () => {
  apis = [await startApi(ctx), await startApi(ctx)];
  worker = await startWorker(ctx, {}, new Map([['echo', echo]]));
  workerMetrics = await serveMetrics(worker.worker.metrics.registry, { host: '127.0.0.1', port: 0, tokens: [] });
});
afterAll(async () => {
  await workerMetrics?.close();
  await worker?.close();
  for (const api of apis ?? []) await api.close();
  await ctx.cleanup();
});

async function scrapeText(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}
const scrapeApis = (list: RunningApi[]) => Promise.all(list.map(async (a) => parse(await scrapeText(a.url))));

/** Submits through `api` and waits for the job's end; its terminal state. */
async function run(api: RunningApi, data: Record<string, unknown>, options: Record<string, unknown> = { attempts: 1 }): Promise<string> {
  const sub = await call(api.url, 'POST', '/jobs', { type: 'echo', data, options });
  expect(sub.status).toBe(202);
  const end = await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`);
  expect(end.status).toBe(200);
  return end.body.state;
}

const COUNTERS = ['completed', 'failed', 'cancelled', 'retried'] as const;
const totals = (scrapes: Sample[][]) => Object.fromEntries(COUNTERS.map((c) => [c, sumOf(scrapes, `asyncjobs_jobs_${c}_total`, { type: 'echo' })]));
/** Waits until the summed counters reach `expected`, and then says what they are. */
async function countedOnce(list: RunningApi[], expected: Record<string, number>, before: Sample[][] = []) {
  let last: Record<string, number> = {};
  await waitFor(async () => {
    last = totals([...before, ...(await scrapeApis(list))]);
    return COUNTERS.every((c) => last[c] >= expected[c]);
  }).catch(() => undefined);
  return last;
}

describe('job counters with two API processes', () => {
  it('sum to the jobs that ran, and the worker shows their timings', async () => {
    const [a, b] = apis;
    const states = await Promise.all([
      run(a, { n: 1 }),
      run(b, { n: 2 }),
      run(a, { n: 3 }),
      run(b, { n: 4 }),
      run(a, { fail: true }),
      run(b, { fail: true }),
      // Fails once, then runs again at once and completes.
      run(a, { failFirst: true }, { attempts: 2, backoff: { type: 'fixed', delay: 0 } }),
    ]);
    expect(states.sort()).toEqual(['completed', 'completed', 'completed', 'completed', 'completed', 'failed', 'failed']);
    expect(await countedOnce(apis, { completed: 5, failed: 2, cancelled: 0, retried: 1 })).toEqual({ completed: 5, failed: 2, cancelled: 0, retried: 1 });
    // Once more after another job, so that both APIs have had time to count anything twice.
    expect(await run(b, { n: 5 })).toBe('completed');
    const expected = { completed: 6, failed: 2, cancelled: 0, retried: 1 };
    expect(await countedOnce(apis, expected)).toEqual(expected);
    const scrapes = await scrapeApis(apis);
    expect(totals(scrapes)).toEqual(expected);
    expect(sumOf(scrapes, 'asyncjobs_jobs_submitted_total', { type: 'echo' })).toBe(8);

    const w = parse(await scrapeText(`http://127.0.0.1:${workerMetrics.port}`));
    expect(value(w, 'asyncjobs_worker_run_seconds_count', { type: 'echo', outcome: 'completed' })).toBe(6);
    // Two jobs that failed, and the first attempt of the one that was retried.
    expect(value(w, 'asyncjobs_worker_run_seconds_count', { type: 'echo', outcome: 'failed' })).toBe(3);
    expect(value(w, 'asyncjobs_worker_run_seconds_bucket', { type: 'echo', outcome: 'completed', le: '+Inf' })).toBe(6);
    // One wait per job: a retry's start is not a second wait.
    expect(value(w, 'asyncjobs_worker_queue_wait_seconds_count', { type: 'echo' })).toBe(8);
    expect(w.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
  });

  it('keeps counting from where the relay stopped when its API process goes away', async () => {
    const before = await scrapeApis(apis);
    const start = totals(before);
    // The process that holds the relay's lease is the one that counted.
    const holder = before.findIndex((s) => value(s, 'asyncjobs_jobs_completed_total', { type: 'echo' }) > 0);
    expect(holder).toBeGreaterThanOrEqual(0);
    const [gone] = apis.splice(holder, 1);
    const lastScrape = (await scrapeApis([gone]))[0];
    await gone.close();
    const [other] = apis;
    expect(await run(other, { n: 6 })).toBe('completed');
    expect(await run(other, { fail: true })).toBe('failed');
    const expected = { ...start, completed: start.completed + 1, failed: start.failed + 1 };
    // The process that went away counted up to its last scrape; the one left counts the rest.
    expect(await countedOnce(apis, expected, [lastScrape])).toEqual(expected);
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics on the API and the worker', async () => {
    for (const url of [apis[0].url, `http://127.0.0.1:${workerMetrics.port}`]) {
      const text = await scrapeText(url);
      expect(promtoolCheck(text), url).toEqual({ status: 0, output: '' });
    }
  });
});
