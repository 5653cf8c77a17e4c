import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE } from '../baselines/job-options';
import type { Bench, Figure } from '../lib/bench';
import type { Child } from '../lib/child';
import { unlinkMatching } from '../lib/cleanup';
import { startOurApi } from '../lib/ours';
import { ourSubmitter, prefillBaseline, unfinished } from '../lib/prefill';
import { cpuMeter, cpuPerJob, rssMB, sampleRss } from '../lib/proc';
import { listenToEvents, relayCaughtUp, relayFollowing, type EventsListener } from '../lib/relay-watch';
import { median, round } from '../lib/stats';

/** Jobs each worker drains, untimed, before the runs, and each API between its start and the runs with it. */
const WARM_UP_JOBS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our worker alone; with one API process running (stream reader and relay), nobody subscribed; and with a subscriber. */
export const DRAIN_VARIANTS = ['alone', 'api', 'apiSub'] as const;
export type DrainVariant = (typeof DRAIN_VARIANTS)[number];

export interface DrainOutcome {
  figures: Record<DrainVariant, Figure>;
  workerRssIdleMB: number[];
  workerRssDrainMB: number[];
}

interface Side {
  queue: Queue;
  fill(n: number): Promise<void>;
  worker: Child;
  /** Removes the finished jobs (and whatever else of the queue) so that every drain starts alike. */
  clean(): Promise<void>;
}

/** With an API running: its pid (for CPU), and how it waits for the API's relay. */
interface WithApi {
  pid: number;
  listen?: () => Promise<EventsListener>;
}

/**
 * Time from "resume" to "nothing left" for `n` prefilled jobs, the queue paused while
 * they are added so that only the drain is timed; polled every 10 ms. Any failed job
 * stops the bench instead of counting. With an API, its relay first catches up with the
 * prefill; after the drain, how long it still took to catch up is reported, not timed.
 */
async function drainOnce(b: Bench, side: Side, n: number, api?: WithApi) {
  const redis = b.redis.client;
  await side.queue.pause();
  await side.fill(n);
  if (api) await relayCaughtUp(redis);
  const listener = await api?.listen?.();
  const pids: Record<string, number> = { worker: side.worker.pid, redis: b.redis.child.pid, ...(api ? { api: api.pid } : {}) };
  const idle = rssMB(side.worker.pid);
  const rss = sampleRss(side.worker.pid);
  const cpu = cpuMeter(pids);
  const cpuUse = cpuPerJob(pids);
  const started = performance.now();
  await side.queue.resume();
  while ((await unfinished(side.queue)) > 0) await sleep(10);
  const seconds = (performance.now() - started) / 1000;
  const peak = rss.stop();
  const cpuPct = cpu.stop();
  const usPerJob = cpuUse.perJob(n);
  const counts = await side.queue.getJobCounts('completed', 'failed');
  if (counts.failed > 0 || counts.completed !== n) {
    throw new Error(`drain: ${counts.completed} of ${n} jobs completed, ${counts.failed} failed on ${side.worker.name}; see ${side.worker.logFile}`);
  }
  const relay = api ? { catchUpMs: round(await relayCaughtUp(redis), 0), ...(listener ? { completedHeard: await listener.until(n, 2000) } : {}) } : undefined;
  listener?.close();
  await side.clean();
  return { rate: n / seconds, idle, peak, cpuPct, usPerJob, relay };
}

type Drained = Awaited<ReturnType<typeof drainOnce>>;

/**
 * `n` echo jobs drained by our worker process against a bare BullMQ Worker (same
 * concurrency, same run): ours alone, then with one API process of its own running,
 * first with nobody subscribed to jobs:events, then with a subscriber.
 */
export async function measureDrain(b: Bench, concurrency: number, ours: Child, bare: Child): Promise<DrainOutcome> {
  const n = b.args.drainJobs;
  const submitter = ourSubmitter(b.redis.client);
  const connection = new Redis(b.redis.url, { maxRetriesPerRequest: null });
  const baseQueue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  const mine: Side = {
    queue: submitter.queue as unknown as Queue,
    fill: (count) => submitter.prefill(count),
    worker: ours,
    clean: () =>
      unlinkMatching(
        b.redis.client,
        ...submitter.keys.queuesOf('echo').map((q) => `${submitter.keys.prefixOf(q)}:${q}:*`),
        ...submitter.keys.groups.map((g) => submitter.keys.typeIndex(g, '*')),
      ),
  };
  const base: Side = {
    queue: baseQueue,
    fill: (count) => prefillBaseline(baseQueue, count),
    worker: bare,
    clean: () => unlinkMatching(b.redis.client, `${BASE_PREFIX}:${BASE_QUEUE}:*`),
  };
  const workerRssIdleMB: number[] = [];
  const workerRssDrainMB: number[] = [];
  const runs: Record<DrainVariant, Record<string, unknown>[]> = { alone: [], api: [], apiSub: [] };
  try {
    // Jobs of earlier figures (e2e, memory) would count as drained.
    await Promise.all([mine.clean(), base.clean()]);
    // Untimed, as for the API below: both worker processes are fresh here, and a process's first
    // thousands of jobs run while V8 still compiles its code (ours has more code to compile).
    for (const side of [mine, base]) await drainOnce(b, side, Math.min(n, WARM_UP_JOBS));
    for (let i = 0; i < b.args.runs; i++) {
      const got = {} as Record<DrainVariant | 'bare', Drained>;
      for (const which of i % 2 ? (['bare', 'alone'] as const) : (['alone', 'bare'] as const))
        got[which] = await drainOnce(b, which === 'bare' ? base : mine, n);
      const api = await startOurApi(b.env, `api-drain-c${concurrency}`);
      try {
        await relayFollowing(b.redis.client, mine.queue);
        // Untimed: a deployed API has run for a while, and the workers here have drained before;
        // a process's first thousands of entries run while V8 still compiles its code.
        await drainOnce(b, mine, Math.min(n, WARM_UP_JOBS), { pid: api.pid });
        got.api = await drainOnce(b, mine, n, { pid: api.pid });
        got.apiSub = await drainOnce(b, mine, n, { pid: api.pid, listen: () => listenToEvents(b.redis.url) });
      } finally {
        await api.stop();
      }
      workerRssIdleMB.push(got.alone.idle);
      workerRssDrainMB.push(got.alone.peak);
      const line: string[] = [];
      for (const v of DRAIN_VARIANTS) {
        const m = got[v];
        const run = {
          value: round(m.rate, 0),
          baseline: round(got.bare.rate, 0),
          ratio: round(m.rate / got.bare.rate, 3),
          workerRssPeakMB: round(m.peak, 1),
          bareWorkerRssPeakMB: round(got.bare.peak, 1),
          // Percent of one core used by each process while draining.
          cpuPct: { ours: m.cpuPct, bare: got.bare.cpuPct },
          cpuUsPerJob: { ours: m.usPerJob, bare: got.bare.usPerJob },
          ...(m.relay ? { relay: m.relay } : {}),
        };
        runs[v].push(run);
        line.push(`${v} ${run.value} (${run.ratio}; µs/job ${JSON.stringify(m.usPerJob)}${m.relay ? `; relay ${JSON.stringify(m.relay)}` : ''})`);
      }
      b.log(
        `  drain c${concurrency} run ${i + 1}: bare worker ${round(got.bare.rate, 0)} jobs/s (µs/job ${JSON.stringify(got.bare.usPerJob)}); ours ${line.join('; ')}`,
      );
    }
    const name = {
      alone: 'our worker alone',
      api: 'with one API process (stream reader + relay), nobody subscribed to jobs:events',
      apiSub: 'with one API process and a subscriber on jobs:events',
    };
    const figure = (v: DrainVariant): Figure => ({
      value: median(runs[v].map((r) => r.value as number)),
      unit: 'jobs/s',
      baseline: median(runs[v].map((r) => r.baseline as number)),
      baselineName: `bare BullMQ Worker, processor returns job.data, concurrency ${concurrency}, alone (ours: ${name[v]})`,
      runs: runs[v],
    });
    return { figures: { alone: figure('alone'), api: figure('api'), apiSub: figure('apiSub') }, workerRssIdleMB, workerRssDrainMB };
  } finally {
    await Promise.all([submitter.close(), baseQueue.close()]);
    connection.disconnect();
  }
}
