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
 * submits; a delayed job cancelled; a running job cancelled; an attempt that times out; a
 * listing; a refused submit, an unknown id and a metrics scrape. Returns the requests
 * made; throws on any answer but the expected one.
 */
async function oneRound(apiUrl: string, agent: ReturnType<typeof keepAlive>, k: number): Promise<number> {
  let sent = 0;
  const call = async (what: string, path: string, ok: number[], method = 'GET', body?: unknown) => {
    sent++;
    const r = await request(agent, `${apiUrl}${path}`, method, body);
    if (!ok.includes(r.status)) throw new Error(`soak: ${what} answered ${r.status}: ${r.body.slice(0, 200)}`);
    // Metrics and event streams answer text; every other answer here is a JSON object.
    return (r.body.startsWith('{') ? JSON.parse(r.body) : {}) as { id: string; state: string; jobs: { id: string }[] };
  };
  const ended = async (what: string, path: string, state: string) => {
    const job = await call(what, path, [200]);
    if (job.state !== state) throw new Error(`soak: ${what} ended ${job.state}, not ${state}`);
  };
  const batch = { jobs: Array.from({ length: 100 }, (_, i) => ({ type: 'echo', data: echoData(k * 100 + i) })) };
  const ids = (await call('POST /jobs/batch', '/jobs/batch', [202], 'POST', batch)).jobs.map((j) => j.id);
  await Promise.all([
    ...ids.slice(0, 20).map((id) => call('GET /jobs/:id/result?wait', `/jobs/${id}/result?wait=10`, [200])),
    // The stream ends after the job's terminal event; request() resolves then.
    ...ids.slice(20, 25).map((id) => call('GET /jobs/:id/events', `/jobs/${id}/events`, [200])),
    ...Array.from({ length: 10 }, (_, i) => call('POST /jobs?wait', '/jobs?wait=10', [200], 'POST', { type: 'echo', data: echoData(i) })),
    (async () => {
      const { id } = await call('POST /jobs (delayed)', '/jobs', [202], 'POST', { type: 'echo', data: {}, options: { delay: 600000 } });
      await call('DELETE /jobs/:id (delayed)', `/jobs/${id}`, [200], 'DELETE');
    })(),
    (async () => {
      // Through the control channel, the handler's AbortSignal and the attempt's end.
      const { id } = await call('POST /jobs (sleep)', '/jobs', [202], 'POST', { type: 'sleep', data: { ms: 30000 } });
      while ((await call('GET /jobs/:id', `/jobs/${id}`, [200])).state !== 'active') await sleep(5);
      await call('DELETE /jobs/:id (active)', `/jobs/${id}`, [202], 'DELETE');
      await ended('a running job cancelled', `/jobs/${id}/result?wait=10`, 'cancelled');
    })(),
    // The attempt's timer and the failure path.
    (async () => {
      const body = { type: 'sleep', data: { ms: 30000 }, options: { timeout: 50, attempts: 1 } };
      const job = await call('POST /jobs?wait (timed out)', '/jobs?wait=10', [200], 'POST', body);
      if (job.state !== 'failed') throw new Error(`soak: a job whose attempt timed out ended ${job.state}, not failed`);
    })(),
    call('GET /jobs', '/jobs?limit=50', [200]),
    call('POST /jobs (unknown type)', '/jobs', [400], 'POST', { type: 'no-such-type', data: {} }),
    call('GET /jobs/:id (unknown)', '/jobs/no-such-job', [404]),
    call('GET /metrics', '/metrics', [200]),
  ]);
  return sent;
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
