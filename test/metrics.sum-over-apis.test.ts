import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiProcess, spawnApi } from './faults/api-process';
import { call } from './api-harness';
import { createTestContext, waitFor } from './helpers';
import { hasPromtool, parse, promtoolCheck, type Sample, sumOf, value } from './prometheus-text';
import { spawnWorker, type WorkerProcess } from './worker-harness';

// Two API processes and one worker process on one namespace, as `npm run start:api` and
// `npm run start:worker` run them.
const ctx = createTestContext();
let apis: ApiProcess[] = [];
let worker: WorkerProcess;
let workerUrl: string;

beforeAll(async () => {
  apis = [await spawnApi(ctx), await spawnApi(ctx)];
  worker = spawnWorker(ctx, { WORKER_METRICS_PORT: '0', WORKER_TYPES: 'echo,sleep' });
  await Promise.all(apis.map((a) => a.listening));
  workerUrl = `http://127.0.0.1:${(await worker.line((l) => l.msg === 'worker metrics listening')).port}`;
  await worker.line((l) => l.msg === 'worker ready');
  // One of them holds the relay's lease and knows where each stream starts: from then on every event is relayed.
  // Every queue group's (a sharded type's shards are groups of their own on a Cluster): a relay that starts
  // a group's streams after a job's events takes them as the past, and would not count them.
  const started = async (g: (typeof ctx.keys.groups)[number]) => (await ctx.redis.hlen(ctx.keys.relayPositions(g))) > 0;
  await waitFor(async () => (await ctx.redis.exists(ctx.keys.relayLease)) === 1 && (await Promise.all(ctx.keys.groups.map(started))).every(Boolean));
}, 60000);
afterAll(async () => {
  for (const p of [...apis, worker]) {
    p?.kill('SIGKILL');
    await p?.exited;
  }
  await ctx.cleanup();
});

async function scrapeText(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}
const scrapeApis = (list: ApiProcess[]) => Promise.all(list.map(async (a) => parse(await scrapeText(a.url))));

/** Submits through `api` and waits for the job's end; its terminal state. */
async function run(api: ApiProcess, type: string, data: unknown, options: Record<string, unknown> = { attempts: 1 }): Promise<string> {
  const sub = await call(api.url, 'POST', '/jobs', { type, data, options });
  expect(sub.status).toBe(202);
  const end = await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`);
  expect(end.status).toBe(200);
  return end.body.state;
}
const complete = (api: ApiProcess, n: number) => run(api, 'echo', { n });
/** A sleep that outlasts its 1 ms timeout: the attempt fails (retryably, so `attempts` applies). */
const fail = (api: ApiProcess, attempts = 1) => run(api, 'sleep', { ms: 60000 }, { timeout: 1, attempts, backoff: { type: 'fixed', delay: 0 } });

const COUNTERS = ['completed', 'failed', 'cancelled', 'retried'] as const;
type Totals = Record<(typeof COUNTERS)[number], number>;
/** Each job counter summed over the scrapes (the processes) and over the job types. */
const totals = (scrapes: Sample[][]) =>
  Object.fromEntries(
    COUNTERS.map((c) => [c, sumOf(scrapes, `asyncjobs_jobs_${c}_total`, { type: 'echo' }) + sumOf(scrapes, `asyncjobs_jobs_${c}_total`, { type: 'sleep' })]),
  ) as Totals;

/** Waits until the summed counters reach `expected` (the relay counts just after the job ends), then says what they are. */
async function counted(list: ApiProcess[], expected: Totals, before: Sample[][] = []): Promise<Totals> {
  let last = totals(before);
  await waitFor(async () => {
    last = totals([...before, ...(await scrapeApis(list))]);
    return COUNTERS.every((c) => last[c] >= expected[c]);
  }).catch(() => undefined);
  return last;
}

describe('job counters with two API processes', () => {
  it('sum to the jobs that ran, and the worker shows their timings', async () => {
    const [a, b] = apis;
    const states = await Promise.all([complete(a, 1), complete(b, 2), complete(a, 3), complete(b, 4), fail(a), fail(b), fail(a, 2)]);
    expect(states).toEqual(['completed', 'completed', 'completed', 'completed', 'failed', 'failed', 'failed']);
    // The last job failed once, went back to the queue, and failed again.
    const expected = { completed: 4, failed: 3, cancelled: 0, retried: 1 };
    expect(await counted(apis, expected)).toEqual(expected);
    // Once more after another job: by then each API process has read every event above, and would have counted it.
    expect(await complete(b, 5)).toBe('completed');
    expected.completed = 5;
    expect(await counted(apis, expected)).toEqual(expected);
    const scrapes = await scrapeApis(apis);
    expect(totals(scrapes)).toEqual(expected);
    expect(sumOf(scrapes, 'asyncjobs_jobs_submitted_total', { type: 'echo' })).toBe(5);
    expect(sumOf(scrapes, 'asyncjobs_jobs_submitted_total', { type: 'sleep' })).toBe(3);

    // The worker ends an attempt in Redis a moment before its own event: read until it has observed them all.
    const w = await waitFor(async () => {
      const s = parse(await scrapeText(workerUrl));
      return value(s, 'asyncjobs_worker_run_seconds_count', { type: 'sleep', outcome: 'failed' }) === 4 &&
        value(s, 'asyncjobs_worker_run_seconds_count', { type: 'echo', outcome: 'completed' }) === 5
        ? s
        : null;
    });
    expect(value(w, 'asyncjobs_worker_run_seconds_bucket', { type: 'echo', outcome: 'completed', le: '+Inf' })).toBe(5);
    // One wait per job: a retry's start is not a second wait.
    expect(value(w, 'asyncjobs_worker_queue_wait_seconds_count', { type: 'echo' })).toBe(5);
    expect(value(w, 'asyncjobs_worker_queue_wait_seconds_count', { type: 'sleep' })).toBe(3);
    expect(w.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics on both APIs and the worker', async () => {
    for (const url of [...apis.map((a) => a.url), workerUrl]) {
      const text = await scrapeText(url);
      expect(promtoolCheck(text), url).toEqual({ status: 0, output: '' });
    }
  });

  it('keeps counting from where the relay stopped when its API process stops', async () => {
    const before = await scrapeApis(apis);
    const start = totals(before);
    // The process that holds the relay's lease is the one that counted.
    const holder = before.findIndex((s) => value(s, 'asyncjobs_jobs_completed_total', { type: 'echo' }) > 0);
    expect(holder).toBeGreaterThanOrEqual(0);
    const [gone] = apis.splice(holder, 1);
    gone.kill('SIGTERM');
    expect(await gone.exited).toBe(0);
    const [other] = apis;
    expect(await complete(other, 6)).toBe('completed');
    expect(await fail(other)).toBe('failed');
    const expected = { ...start, completed: start.completed + 1, failed: start.failed + 1 };
    // The process that stopped counted up to its last scrape (`before`); the one left counts the rest.
    expect(await counted(apis, expected, [before[holder]])).toEqual(expected);
  });
});
