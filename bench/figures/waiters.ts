import type { Bench, Figure } from '../lib/bench';
import { keepAlive, request, type Reply } from '../lib/http';
import { startOurApi, type RunningApi } from '../lib/ours';
import { echoData, ourSubmitter } from '../lib/prefill';
import { rssMB, sampleRss } from '../lib/proc';
import { redisConnectionsOf } from '../lib/redis-connections';
import { median, round } from '../lib/stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHUNK = 500;

async function scrape(api: RunningApi): Promise<string> {
  const agent = keepAlive(1);
  try {
    return (await request(agent, `${api.url}/metrics`)).body;
  } finally {
    agent.destroy();
  }
}

/** The API's own count of held long-polls (its /metrics gauge). */
async function heldWaiters(api: RunningApi): Promise<number> {
  return Number(/^asyncjobs_longpoll_waiters (\d+)/m.exec(await scrape(api))?.[1] ?? Number.NaN);
}

/** V8 heap in use and memory outside it (buffers, sockets' native state), in MB, from the API's default metrics. */
async function heapMB(api: RunningApi): Promise<{ heapUsedMB: number; externalMB: number }> {
  const text = await scrape(api);
  const mb = (name: string) => round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) / 2 ** 20, 1);
  return { heapUsedMB: mb('nodejs_heap_size_used_bytes'), externalMB: mb('nodejs_external_memory_bytes') };
}

async function untilHeld(api: RunningApi, n: number, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await heldWaiters(api)) < n) {
    if (Date.now() > deadline) throw new Error(`waiters: the API holds ${await heldWaiters(api)} long-polls, expected ${n}`);
    await sleep(20);
  }
}

/** Submits `n` echo jobs through POST /jobs/batch (100 a request); their ids. */
async function submitJobs(api: RunningApi, n: number): Promise<string[]> {
  const agent = keepAlive(4);
  const ids: string[] = [];
  try {
    const batches = [];
    for (let i = 0; i < n; i += 100) {
      const jobs = Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ type: 'echo', data: echoData(i + j) }));
      batches.push(
        request(agent, `${api.url}/jobs/batch`, 'POST', { jobs }).then((r) => {
          if (r.status !== 202) throw new Error(`waiters: batch submit answered ${r.status}: ${r.body}`);
          for (const j of (JSON.parse(r.body) as { jobs: { id: string }[] }).jobs) ids.push(j.id);
        }),
      );
    }
    await Promise.all(batches);
  } finally {
    agent.destroy();
  }
  return ids;
}

/**
 * `waiters` concurrent GET /jobs/:id/result?wait=30 on one API process, each on its own
 * connection, while the jobs wait in a paused queue; then the queue resumes and our
 * worker (already running) completes them. Reports the Redis connections the API holds
 * (0, 1,000 and all waiters open), its RSS, and how long after each job's completion
 * (finishedAt in its record) its long-poll was answered. Each run has an API process of
 * its own: one that served the load of earlier figures carries their garbage, which V8
 * collects only lazily, and its RSS would measure that rather than the waiters.
 */
export async function measureWaiters(b: Bench): Promise<Figure> {
  const n = b.args.waiters;
  const submitter = ourSubmitter(b.redis.client);
  const runs = [];
  let api: RunningApi | undefined;
  try {
    for (let i = 0; i < b.args.runs; i++) {
      api = await startOurApi(b.env, 'api-waiters');
      const conns = () => redisConnectionsOf((api as RunningApi).pid, b.redis.client, b.redis.port);
      await submitter.queue.pause();
      const ids = await submitJobs(api, n);
      const at0 = await conns();
      const agent = keepAlive(Infinity);
      const replies: Promise<Reply>[] = [];
      let at1000 = at0;
      for (let k = 0; k < ids.length; k += CHUNK) {
        for (const id of ids.slice(k, k + CHUNK)) replies.push(request(agent, `${api.url}/jobs/${id}/result?wait=30`, 'GET', undefined, 45000));
        // Opened in steps, each acknowledged by the API, so the accept backlog never overflows.
        await untilHeld(api, replies.length);
        if (replies.length === 1000 || (replies.length < 1000 && k + CHUNK >= ids.length)) at1000 = await conns();
      }
      const atAll = await conns();
      const rssHeld = rssMB(api.pid);
      const heldHeap = await heapMB(api);
      const rss = sampleRss(api.pid, 50);
      await submitter.queue.resume();
      const got = await Promise.all(replies);
      const peak = rss.stop();
      agent.destroy();

      let lastDone = 0;
      let lastReply = 0;
      let maxLag = 0;
      let answered = 0;
      for (const r of got) {
        const job = JSON.parse(r.body) as { state: string; finishedAt: string | null };
        if (r.status !== 200 || job.state !== 'completed' || !job.finishedAt) continue;
        answered++;
        const done = Date.parse(job.finishedAt);
        const replied = performance.timeOrigin + r.doneAt;
        lastDone = Math.max(lastDone, done);
        lastReply = Math.max(lastReply, replied);
        maxLag = Math.max(maxLag, replied - done);
      }
      if (answered !== n) throw new Error(`waiters: ${answered} of ${n} long-polls answered with a completed job`);
      const run = {
        value: round(lastReply - lastDone, 1),
        waiters: n,
        answered,
        maxLagMs: round(maxLag, 1),
        redisConnections: atAll.count,
        redisConnectionNames: atAll.names,
        redisConnectionsAt0: at0.count,
        redisConnectionsAt1000: at1000.count,
        apiRssHeldMB: round(rssHeld, 1),
        apiRssPeakMB: round(peak, 1),
        apiHeapUsedHeldMB: heldHeap.heapUsedMB,
        apiExternalHeldMB: heldHeap.externalMB,
      };
      b.log(
        `  waiters run ${i + 1}: ${n} held on ${run.redisConnections} Redis connections (0: ${run.redisConnectionsAt0}, 1000: ${run.redisConnectionsAt1000}), ` +
          `RSS ${run.apiRssHeldMB}/${run.apiRssPeakMB} MB (heap ${run.apiHeapUsedHeldMB}, external ${run.apiExternalHeldMB}), last answer ${run.value} ms after the last completion, worst lag ${run.maxLagMs} ms`,
      );
      runs.push(run);
      await api.stop();
      api = undefined;
    }
  } finally {
    await api?.stop();
    await submitter.queue.resume().catch(() => undefined);
    await submitter.close();
  }
  return {
    value: median(runs.map((r) => r.value)),
    unit: 'ms',
    baseline: null,
    baselineName: '—',
    runs,
  };
}
