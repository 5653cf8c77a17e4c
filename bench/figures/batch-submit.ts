import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE, baseJobOptions } from '../baselines/job-options';
import type { Bench, Figure } from '../lib/bench';
import { cannon } from '../lib/cannon';
import type { RunningApi } from '../lib/ours';
import { echoData } from '../lib/prefill';
import { median, round } from '../lib/stats';

const SIZE = 100;
const CLIENTS = 10;

/** `CLIENTS` loops each awaiting queue.addBulk of SIZE jobs, for `seconds`; jobs per second. */
async function addBulkRate(queue: Queue, seconds: number): Promise<number> {
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
  return jobs / ((performance.now() - started) / 1000);
}

/** POST /jobs/batch of 100 (10 connections) against raw queue.addBulk of 100 (10 concurrent callers), in jobs/s. */
export async function measureBatchSubmit(b: Bench, api: RunningApi): Promise<Figure> {
  const body = { jobs: Array.from({ length: SIZE }, (_, i) => ({ type: 'echo', data: echoData(i) })) };
  const connection = new Redis(b.redis.url, { maxRetriesPerRequest: 1 });
  const queue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  try {
    if (!b.args.quick) {
      await cannon(`${api.url}/jobs/batch`, body, CLIENTS, 1);
      await addBulkRate(queue, 1);
    } else {
      // One request first even in the smoke run: on a busy machine the cold API's first batches
      // (BullMQ loading its scripts, the JIT) could outlast the 1 s window and count nothing.
      const res = await fetch(`${api.url}/jobs/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.arrayBuffer();
    }
    const runs = [];
    for (let i = 0; i < b.args.runs; i++) {
      let ours = 0;
      let baseline = 0;
      for (const which of i % 2 ? ['base', 'ours'] : ['ours', 'base']) {
        await b.redis.client.flushall();
        if (which === 'base') baseline = await addBulkRate(queue, b.args.durationS);
        else {
          const r = await cannon(`${api.url}/jobs/batch`, body, CLIENTS, b.args.durationS);
          if (r.ok === 0 || r.non2xx + r.errors > 0) throw new Error(`batch submit: ${r.ok} 2xx, ${r.non2xx} other, ${r.errors} errors`);
          ours = r.okPerSec * SIZE;
        }
      }
      const run = { value: round(ours, 0), baseline: round(baseline, 0), ratio: round(ours / baseline, 3) };
      b.log(`  batch run ${i + 1}: ours ${run.value} jobs/s, addBulk ${run.baseline} (ratio ${run.ratio})`);
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
    await queue.close();
    connection.disconnect();
  }
}
