import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Queue } from 'bullmq';
import type { Bench, Figure } from '../lib/bench';
import type { Child } from '../lib/child';
import { keepAlive, request } from '../lib/http';
import { startOurApi, startOurWorker } from '../lib/ours';
import { echoData, ourSubmitter, unfinished } from '../lib/prefill';
import { round } from '../lib/stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROBE = fileURLToPath(new URL('../lib/gc-probe.mjs', import.meta.url));
const MB = 1e6;

/** Heap left after a full collection, and RSS, in MB, as the process's gc-probe wrote them on SIGUSR2. */
async function probe(child: Child, file: string): Promise<{ heapMB: number; rssMB: number }> {
  const asked = Date.now();
  process.kill(child.pid, 'SIGUSR2');
  const deadline = asked + 10000;
  for (;;) {
    try {
      const m = JSON.parse(readFileSync(file, 'utf8')) as { heapUsed: number; rss: number; at: number };
      if (m.at >= asked) return { heapMB: round(m.heapUsed / MB, 2), rssMB: round(m.rss / MB, 1) };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`soak: ${child.name} did not answer its heap probe`);
    await sleep(20);
  }
}

/**
 * One round of what clients do, on one keep-alive agent: a batch of 100 echo jobs, 20 of
 * them awaited by long-poll and 5 followed to their end by event stream; 10 one-request
 * submits; a delayed job cancelled; a listing; a refused submit, an unknown id and a
 * metrics scrape. Returns the requests made; throws on any answer but the expected one.
 */
async function oneRound(apiUrl: string, agent: ReturnType<typeof keepAlive>, k: number): Promise<number> {
  const check = async (what: string, p: Promise<{ status: number; body: string }>, ok: number[]) => {
    const r = await p;
    if (!ok.includes(r.status)) throw new Error(`soak: ${what} answered ${r.status}: ${r.body.slice(0, 200)}`);
    return r;
  };
  const batch = await check(
    'POST /jobs/batch',
    request(agent, `${apiUrl}/jobs/batch`, 'POST', { jobs: Array.from({ length: 100 }, (_, i) => ({ type: 'echo', data: echoData(k * 100 + i) })) }),
    [202],
  );
  const ids = (JSON.parse(batch.body) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
  const work: Promise<unknown>[] = [
    ...ids.slice(0, 20).map((id) => check('GET /jobs/:id?wait', request(agent, `${apiUrl}/jobs/${id}?wait=10`), [200])),
    ...ids.slice(20, 25).map((id) => check('GET /jobs/:id/events', request(agent, `${apiUrl}/jobs/${id}/events`), [200])),
    ...Array.from({ length: 10 }, (_, i) =>
      check('POST /jobs?wait', request(agent, `${apiUrl}/jobs?wait=10`, 'POST', { type: 'echo', data: echoData(i) }), [200]),
    ),
    (async () => {
      const d = await check('POST /jobs (delayed)', request(agent, `${apiUrl}/jobs`, 'POST', { type: 'echo', data: {}, options: { delay: 600000 } }), [202]);
      await check('DELETE /jobs/:id', request(agent, `${apiUrl}/jobs/${(JSON.parse(d.body) as { id: string }).id}`, 'DELETE'), [200]);
    })(),
    check('GET /jobs', request(agent, `${apiUrl}/jobs?limit=50`), [200]),
    check('POST /jobs (unknown type)', request(agent, `${apiUrl}/jobs`, 'POST', { type: 'no-such-type', data: {} }), [400]),
    check('GET /jobs/:id (unknown)', request(agent, `${apiUrl}/jobs/no-such-job`), [404]),
    check('GET /metrics', request(agent, `${apiUrl}/metrics`), [200]),
  ];
  await Promise.all(work);
  return 1 + work.length + 1;
}

/**
 * Whether the API and the worker keep what they no longer need: one API and one worker
 * (concurrency 10) serve `rounds` rounds of mixed requests (oneRound), and after each third
 * (once the queue is empty) each process collects its garbage fully (bench/lib/gc-probe.mjs)
 * and reports the heap it kept. Bounded memories (the API's own-jobs map, the metrics'
 * label sets) fill in the first third; a leak shows as growth after that. The figure is the
 * API's growth over the last third, in MB; the worker's is beside it.
 */
export async function measureSoak(b: Bench): Promise<Figure> {
  const rounds = b.args.soakRounds;
  const dir = mkdtempSync(join(tmpdir(), 'bench-soak-'));
  const files = { api: join(dir, 'api.json'), worker: join(dir, 'worker.json') };
  const flags = ['--expose-gc', '--import', PROBE];
  const submitter = ourSubmitter(b.redis.client);
  const agent = keepAlive(64);
  let api: Awaited<ReturnType<typeof startOurApi>> | undefined;
  let worker: Child | undefined;
  try {
    [api, worker] = await Promise.all([
      startOurApi(b.env, 'api-soak', { flags, env: { GC_PROBE_FILE: files.api } }),
      startOurWorker(b.env, 10, 'worker-soak', { flags, env: { GC_PROBE_FILE: files.worker } }),
    ]);
    const heaps: { api: number[]; worker: number[]; apiRss: number[]; workerRss: number[] } = { api: [], worker: [], apiRss: [], workerRss: [] };
    let requests = 0;
    const started = performance.now();
    for (let third = 1; third <= 3; third++) {
      for (let k = Math.round(((third - 1) * rounds) / 3); k < Math.round((third * rounds) / 3); k++) requests += await oneRound(api.url, agent, k);
      // The batches' other jobs are still running: the worker is probed with none left.
      while ((await unfinished(submitter.queue as unknown as Queue)) > 0) await sleep(20);
      const [a, w] = await Promise.all([probe(api, files.api), probe(worker, files.worker)]);
      heaps.api.push(a.heapMB);
      heaps.apiRss.push(a.rssMB);
      heaps.worker.push(w.heapMB);
      heaps.workerRss.push(w.rssMB);
    }
    const run = {
      rounds,
      requests,
      seconds: round((performance.now() - started) / 1000, 1),
      apiHeapMB: heaps.api,
      workerHeapMB: heaps.worker,
      apiRssMB: heaps.apiRss,
      workerRssMB: heaps.workerRss,
      apiGrowthMB: round(heaps.api[2] - heaps.api[1], 2),
      workerGrowthMB: round(heaps.worker[2] - heaps.worker[1], 2),
    };
    b.log(
      `  soak: ${rounds} rounds, ${requests} requests in ${run.seconds} s; heap after GC at each third: API ${heaps.api.join(' / ')} MB, worker ${heaps.worker.join(' / ')} MB`,
    );
    return { value: run.apiGrowthMB, unit: 'MB', baseline: null, baselineName: '—', runs: [run] };
  } finally {
    agent.destroy();
    await Promise.allSettled([api?.stop(), worker?.stop()]);
    await submitter.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
