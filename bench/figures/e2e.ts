import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE, baseJobOptions } from '../baselines/job-options';
import type { Bench, Figure } from '../lib/bench';
import { keepAlive, request } from '../lib/http';
import type { RunningApi } from '../lib/ours';
import { median, percentile, round } from '../lib/stats';

const data = { hello: 'world', n: 1 };

/** `n` sequential POST /jobs + GET /jobs/:id/result?wait=10 on one keep-alive connection; latencies in ms. */
async function ours(api: RunningApi, n: number): Promise<number[]> {
  const agent = keepAlive(1);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const posted = await request(agent, `${api.url}/jobs`, 'POST', { type: 'echo', data });
      if (posted.status !== 202) throw new Error(`e2e: POST /jobs answered ${posted.status}: ${posted.body}`);
      const { id } = JSON.parse(posted.body) as { id: string };
      const got = await request(agent, `${api.url}/jobs/${id}/result?wait=10`);
      if (got.status !== 200 || (JSON.parse(got.body) as { state: string }).state !== 'completed') {
        throw new Error(`e2e: result of ${id} answered ${got.status}: ${got.body}`);
      }
      out.push(got.doneAt - t0);
    }
  } finally {
    agent.destroy();
  }
  return out;
}

/** `n` sequential raw queue.add + job.waitUntilFinished(queueEvents), against the bare worker. */
async function raw(queue: Queue, events: QueueEvents, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const job = await queue.add(BASE_QUEUE, { input: data }, baseJobOptions());
    await job.waitUntilFinished(events, 10000);
    out.push(performance.now() - t0);
  }
  return out;
}

interface Summary {
  p50: number;
  p95: number;
  p99: number;
}

const summary = (xs: number[]): Summary => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50), 3), p95: round(percentile(s, 95), 3), p99: round(percentile(s, 99), 3) };
};

/**
 * End-to-end latency, submit to result, one job at a time: ours over HTTP with the
 * long-poll, the baseline in-process with BullMQ's QueueEvents. Our worker and the bare
 * worker (same concurrency) are both running.
 */
export async function measureE2e(b: Bench, api: RunningApi): Promise<{ p50: Figure; p99: Figure }> {
  const connection = new Redis(b.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  // QueueEvents blocks on XREAD: a connection of its own.
  const eventsConnection = new Redis(b.redis.url, { maxRetriesPerRequest: null });
  const events = new QueueEvents(BASE_QUEUE, { connection: eventsConnection, prefix: BASE_PREFIX });
  try {
    await events.waitUntilReady();
    const warm = Math.min(100, b.args.e2eCount);
    await ours(api, warm);
    await raw(queue, events, warm);
    const runs: { ours: Summary; baseline: Summary; ratioP50: number; ratioP99: number }[] = [];
    for (let i = 0; i < b.args.runs; i++) {
      let mine: number[] = [];
      let base: number[] = [];
      for (const which of i % 2 ? ['base', 'ours'] : ['ours', 'base']) {
        if (which === 'ours') mine = await ours(api, b.args.e2eCount);
        else base = await raw(queue, events, b.args.e2eCount);
      }
      const m = summary(mine);
      const r = summary(base);
      runs.push({ ours: m, baseline: r, ratioP50: round(m.p50 / r.p50, 3), ratioP99: round(m.p99 / r.p99, 3) });
      b.log(`  e2e run ${i + 1}: ours p50 ${m.p50} p95 ${m.p95} p99 ${m.p99} ms; raw p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} ms`);
    }
    const fig = (p: 'p50' | 'p99'): Figure => ({
      value: median(runs.map((r) => r.ours[p])),
      unit: 'ms',
      baseline: median(runs.map((r) => r.baseline[p])),
      baselineName: `raw queue.add + job.waitUntilFinished(QueueEvents), bare worker (${p})`,
      runs: runs.map((r) => ({ value: r.ours[p], baseline: r.baseline[p], ratio: round(r.ours[p] / r.baseline[p], 3), ours: r.ours, raw: r.baseline })),
    });
    return { p50: fig('p50'), p99: fig('p99') };
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
