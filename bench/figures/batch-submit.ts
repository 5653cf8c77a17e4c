import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE, baseJobOptions } from '../baselines/job-options';
import type { Bench, Figure } from '../lib/bench';
import { cannon } from '../lib/cannon';
import { freePort } from '../lib/free-port';
import { cpuPerJob } from '../lib/proc';
import { startBaseline, type RunningApi } from '../lib/ours';
import { echoData } from '../lib/prefill';
import { median, round } from '../lib/stats';

const SIZE = 100;
const CLIENTS = 10;

/** What `measure` returned, and the CPU per job (cpuPerJob) of `pids` while it ran. */
async function withCpu<T extends { jobs: number }>(pids: Record<string, number>, measure: () => Promise<T>): Promise<[T, Record<string, number>]> {
  const cpu = cpuPerJob(pids);
  const r = await measure();
  return [r, cpu.perJob(r.jobs)];
}

/** `CLIENTS` loops each awaiting queue.addBulk of SIZE jobs, for `seconds`; jobs per second. */
async function addBulkRate(queue: Queue, seconds: number): Promise<{ rate: number; jobs: number }> {
  const started = performance.now();
  const until = started + seconds * 1000;
  let jobs = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        await queue.addBulk(Array.from({ length: SIZE }, (_, i) => ({ name: BASE_QUEUE, data: echoData(i), opts: baseJobOptions() })));
        jobs += SIZE;
      }
    }),
  );
  return { rate: jobs / ((performance.now() - started) / 1000), jobs };
}

/** POST /jobs/batch of `body` (CLIENTS connections) for `seconds`, in jobs/s; throws on any answer but 2xx. */
async function batchRate(url: string, body: unknown, seconds: number, what: string): Promise<{ rate: number; jobs: number }> {
  const r = await cannon(url, body, CLIENTS, seconds);
  if (r.ok === 0 || r.non2xx + r.errors > 0) throw new Error(`${what}: ${r.ok} 2xx, ${r.non2xx} other, ${r.errors} errors`);
  return { rate: r.okPerSec * SIZE, jobs: r.ok * SIZE };
}

/**
 * POST /jobs/batch of 100 (10 connections) against raw queue.addBulk of 100 (10 concurrent
 * callers), in jobs/s. Each run also measures an Express handler that does nothing but
 * addBulk (express-server.ts, queue-add): what HTTP alone costs a batch, for reference;
 * and the CPU per job of the HTTP process and of Redis in each (`cpuUsPerJob`).
 */
export async function measureBatchSubmit(b: Bench, api: RunningApi): Promise<Figure> {
  const body = { jobs: Array.from({ length: SIZE }, (_, i) => ({ type: 'echo', data: echoData(i) })) };
  const port = await freePort();
  const express = await startBaseline(b.env, 'express-add-bulk', 'bench/baselines/express-server.ts', { MODE: 'queue-add', PORT: String(port) });
  const connection = new Redis(b.redis.url, { maxRetriesPerRequest: 1 });
  const queue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  const naiveUrl = `http://127.0.0.1:${port}/jobs/batch`;
  try {
    if (!b.args.quick) {
      await cannon(`${api.url}/jobs/batch`, body, CLIENTS, 1);
      await cannon(naiveUrl, body, CLIENTS, 1);
      await addBulkRate(queue, 1);
    } else {
      // One request first even in the smoke run: on a busy machine the cold API's first batches
      // (BullMQ loading its scripts, the JIT) could outlast the 1 s window and count nothing.
      for (const url of [`${api.url}/jobs/batch`, naiveUrl]) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await res.arrayBuffer();
      }
    }
    const runs = [];
    for (let i = 0; i < b.args.runs; i++) {
      const got = { ours: 0, base: 0, naive: 0 };
      const cpu: Record<string, Record<string, number>> = {};
      const redisPid = b.redis.child.pid;
      const order = ['ours', 'base', 'naive'] as const;
      for (let k = 0; k < order.length; k++) {
        const which = order[(i + k) % order.length];
        await b.redis.client.flushall();
        if (which === 'base') {
          const [r, us] = await withCpu({ redis: redisPid }, () => addBulkRate(queue, b.args.durationS));
          [got.base, cpu.addBulk] = [r.rate, us];
        } else if (which === 'ours') {
          const [r, us] = await withCpu({ api: api.pid, redis: redisPid }, () => batchRate(`${api.url}/jobs/batch`, body, b.args.durationS, 'batch submit'));
          [got.ours, cpu.ours] = [r.rate, us];
        } else {
          const [r, us] = await withCpu({ api: express.pid, redis: redisPid }, () =>
            batchRate(naiveUrl, body, b.args.durationS, 'addBulk-only Express handler'),
          );
          [got.naive, cpu.addBulkOnlyExpress] = [r.rate, us];
        }
      }
      const run = {
        value: round(got.ours, 0),
        baseline: round(got.base, 0),
        ratio: round(got.ours / got.base, 3),
        addBulkOnlyExpress: round(got.naive, 0),
        addBulkOnlyExpressRatio: round(got.naive / got.base, 3),
        cpuUsPerJob: cpu,
      };
      b.log(
        `  batch run ${i + 1}: ours ${run.value} jobs/s, addBulk ${run.baseline} (ratio ${run.ratio}); addBulk-only Express handler ${run.addBulkOnlyExpress} (ratio ${run.addBulkOnlyExpressRatio}); µs/job ${JSON.stringify(cpu)}`,
      );
      runs.push(run);
    }
    return {
      value: median(runs.map((r) => r.value)),
      unit: 'jobs/s',
      baseline: median(runs.map((r) => r.baseline)),
      baselineName: 'raw queue.addBulk of 100 (10 concurrent callers)',
      runs,
    };
  } finally {
    await Promise.allSettled([queue.close(), express.stop()]);
    connection.disconnect();
  }
}
