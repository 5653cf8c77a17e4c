import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE } from '../baselines/job-options';
import type { Bench, Figure } from '../lib/bench';
import type { Child } from '../lib/child';
import { ourSubmitter, prefillBaseline, unfinished } from '../lib/prefill';
import { cpuMeter, cpuSeconds, rssMB, sampleRss } from '../lib/proc';
import { median, round } from '../lib/stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DrainOutcome {
  figure: Figure;
  workerRssIdleMB: number[];
  workerRssDrainMB: number[];
}

/**
 * Time from "resume" to "nothing left" for `n` prefilled jobs, the queue paused while
 * they are added so that only the drain is timed; polled every 10 ms. Jobs that
 * failed would finish too, so any failure stops the bench instead of counting.
 */
async function drainOnce(queue: Queue, fill: () => Promise<void>, n: number, worker: Child, redisPid: number) {
  await queue.pause();
  await fill();
  const failedBefore = await queue.getFailedCount();
  const idle = rssMB(worker.pid);
  const rss = sampleRss(worker.pid);
  const cpu = cpuMeter({ worker: worker.pid, redis: redisPid });
  const cpuBefore = { worker: cpuSeconds(worker.pid), redis: cpuSeconds(redisPid) };
  const started = performance.now();
  await queue.resume();
  while ((await unfinished(queue)) > 0) await sleep(10);
  const seconds = (performance.now() - started) / 1000;
  const peak = rss.stop();
  const cpuPct = cpu.stop();
  // CPU microseconds per job: unlike the rate, hardly moved by other load on a shared machine.
  const usPerJob = {
    worker: Math.round(((cpuSeconds(worker.pid) - cpuBefore.worker) * 1e6) / n),
    redis: Math.round(((cpuSeconds(redisPid) - cpuBefore.redis) * 1e6) / n),
  };
  const failed = (await queue.getFailedCount()) - failedBefore;
  if (failed > 0) throw new Error(`drain: ${failed} jobs failed on ${worker.name}; see ${worker.logFile}`);
  return { rate: n / seconds, idle, peak, cpuPct, usPerJob };
}

/** `n` echo jobs drained by our worker process against a bare BullMQ Worker, same concurrency, same run. */
export async function measureDrain(b: Bench, concurrency: number, ours: Child, bare: Child): Promise<DrainOutcome> {
  const n = b.args.drainJobs;
  const submitter = ourSubmitter(b.redis.client);
  const connection = new Redis(b.redis.url, { maxRetriesPerRequest: null });
  const baseQueue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  const workerRssIdleMB: number[] = [];
  const workerRssDrainMB: number[] = [];
  try {
    const runs = [];
    for (let i = 0; i < b.args.runs; i++) {
      let mine = { rate: 0, idle: 0, peak: 0, cpuPct: {} as Record<string, number>, usPerJob: {} as Record<string, number> };
      let base = mine;
      for (const which of i % 2 ? ['base', 'ours'] : ['ours', 'base']) {
        if (which === 'ours') mine = await drainOnce(submitter.queue as unknown as Queue, () => submitter.prefill(n), n, ours, b.redis.child.pid);
        else base = await drainOnce(baseQueue, () => prefillBaseline(baseQueue, n), n, bare, b.redis.child.pid);
      }
      // Every job's record must say completed, or the rate means nothing.
      const sample = await b.redis.client.keys(`${submitter.keys.record('*')}`);
      const states = await Promise.all(sample.slice(-50).map((k) => b.redis.client.hget(k, 'state')));
      const notDone = states.filter((s) => s !== 'completed').length;
      if (notDone > 0) throw new Error(`drain: ${notDone} of 50 sampled records are not completed`);
      workerRssIdleMB.push(mine.idle);
      workerRssDrainMB.push(mine.peak);
      const run = {
        value: round(mine.rate, 0),
        baseline: round(base.rate, 0),
        ratio: round(mine.rate / base.rate, 3),
        workerRssPeakMB: round(mine.peak, 1),
        bareWorkerRssPeakMB: round(base.peak, 1),
        // Percent of one core used by the worker process and by Redis while draining.
        cpuPct: { ours: mine.cpuPct, bare: base.cpuPct },
        cpuUsPerJob: { ours: mine.usPerJob, bare: base.usPerJob },
      };
      b.log(`  drain c${concurrency} run ${i + 1}: ours ${run.value} jobs/s, bare worker ${run.baseline} (ratio ${run.ratio}); cpu µs/job ${JSON.stringify(run.cpuUsPerJob)}`);
      runs.push(run);
      // Records of finished jobs stay for RESULT_TTL_SECONDS; clear ours so runs start alike.
      await b.redis.client.eval(
        "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k) n = n + 1 end return n",
        0,
        `${submitter.keys.ownPattern}`,
      );
    }
    return {
      figure: {
        value: median(runs.map((r) => r.value)),
        unit: 'jobs/s',
        baseline: median(runs.map((r) => r.baseline)),
        baselineName: `bare BullMQ Worker, no-op processor, concurrency ${concurrency}`,
        runs,
      },
      workerRssIdleMB,
      workerRssDrainMB,
    };
  } finally {
    await Promise.all([submitter.close(), baseQueue.close()]);
    connection.disconnect();
  }
}
