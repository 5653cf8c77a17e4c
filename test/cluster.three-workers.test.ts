import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isTerminal, jobTypeNames, parseWorkerName } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, onCluster, waitFor, watchEvents, type EventWatch } from './helpers';
import { spawnWorker, type WorkerProcess } from './worker-harness';

/*
 * Scaling out, shown rather than claimed: one API and three worker processes on a Redis
 * Cluster run 5,000 jobs of mixed types; one worker is SIGKILLed midway and its jobs are
 * recovered by the other two (BullMQ's stalled-job check). Runs under `npm run test:cluster`
 * only; the figures go to test-artifacts/cluster/three-workers.json and docs/scaling-out.md.
 */
const JOBS = 5000;
const WORKERS = 3;
const KILL_AFTER = 2000;
const BATCH = 1000;
const HASH_ROUNDS = 50;
const SLEEP_MS = 100;

type Spec = { type: 'echo'; data: { i: number } } | { type: 'hash'; data: { text: string; rounds: number } } | { type: 'sleep'; data: { ms: number } };

function specOf(i: number): Spec {
  if (i % 3 === 0) return { type: 'echo', data: { i } };
  if (i % 3 === 1) return { type: 'hash', data: { text: `job ${i}`, rounds: HASH_ROUNDS } };
  return { type: 'sleep', data: { ms: SLEEP_MS } };
}

/** What each job must have produced: docs/http-api.md's built-in types, computed here independently. */
function expectedResult(s: Spec): unknown {
  if (s.type === 'echo') return s.data;
  if (s.type === 'sleep') return { sleptMs: s.data.ms };
  let digest = createHash('sha256').update(s.data.text, 'utf8').digest();
  for (let r = 1; r < s.data.rounds; r++) digest = createHash('sha256').update(digest).digest();
  return { digest: digest.toString('hex') };
}

const ctx = createTestContext();
const env = {
  WORKER_CONCURRENCY: '16',
  // A dead worker's jobs are taken over after at most lock + check interval: about 3 s here.
  STALLED_INTERVAL_MS: '1000',
  LOCK_DURATION_MS: '2000',
  LIST_LISTENER: 'false',
  PUBSUB_LISTENER: 'false',
  // `job completed` is a debug line (a worker writes nothing per job by default); who ran what is read from it.
  LOG_LEVEL: 'debug',
};
let api: RunningApi;
let watch: EventWatch;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  if (!onCluster) return;
  watch = await watchEvents(ctx);
  api = await startApi(ctx);
  for (let i = 0; i < WORKERS; i++) workers.push(spawnWorker(ctx, env));
  await Promise.all(workers.map((w) => w.line((l) => l.msg === 'worker ready', 30000)));
}, 60000);

afterAll(async () => {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await api?.close();
  await watch?.close();
  await ctx.cleanup();
}, 60000);

describe.skipIf(!onCluster)('three workers and one API on a Redis Cluster (npm run test:cluster)', () => {
  it('run 5,000 mixed jobs to completion, each exactly once, on all three workers, through a SIGKILL of one', async () => {
    const specs = Array.from({ length: JOBS }, (_, i) => specOf(i));
    const ids: string[] = [];
    const terminals = new Map<string, number>();
    let scanned = 0;
    // Counts terminal events as they arrive, reading each event once.
    const terminalCount = () => {
      for (; scanned < watch.events.length; scanned++) {
        const e = watch.events[scanned];
        if (['completed', 'failed', 'cancelled'].includes(e.event)) terminals.set(e.id, (terminals.get(e.id) ?? 0) + 1);
      }
      return terminals.size;
    };

    const started = Date.now();
    for (let i = 0; i < JOBS; i += BATCH) {
      const res = await call(api.url, 'POST', '/jobs/batch', { jobs: specs.slice(i, i + BATCH) });
      expect(res.status).toBe(202);
      ids.push(...res.body.jobs.map((j: { id: string }) => j.id));
    }
    const submittedMs = Date.now() - started;

    await waitFor(() => terminalCount() >= KILL_AFTER, 120000, 50);
    const victim = workers[1];
    const victimDoneBeforeKill = completedBy(victim).size;
    victim.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const killedAtMs = Date.now() - started;

    await waitFor(() => terminalCount() >= JOBS, 150000, 50);
    const allDoneMs = Date.now() - started;
    // Let anything still moving in BullMQ (a rerun of a recovered job) finish before counting.
    const queues = [...api.context.queues.values()];
    await waitFor(
      async () => {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'prioritized', 'delayed', 'active')));
        return counts.every((c) => Object.values(c).every((n) => n === 0));
      },
      30000,
      100,
    );
    terminalCount();

    // Exactly one terminal event per job, and it says completed.
    expect(terminals.size).toBe(JOBS);
    expect([...terminals.values()].filter((n) => n !== 1)).toEqual([]);
    const ended = watch.events.filter((e) => isTerminal(e.state));
    expect(ended.filter((e) => e.event !== 'completed')).toEqual([]);
    expect(new Set(ids).size).toBe(JOBS);
    for (const id of ids) expect(terminals.get(id)).toBe(1);

    // The results store's view: every record completed, with the right result.
    const records = [];
    for (let i = 0; i < JOBS; i += 500) records.push(...(await api.context.store.readMany(ids.slice(i, i + 500))));
    const wrong = records.flatMap((r, i) =>
      r?.state === 'completed' && JSON.stringify(r.result) === JSON.stringify(expectedResult(specs[i]))
        ? []
        : [{ id: ids[i], state: r?.state, result: r?.result }],
    );
    expect(wrong.slice(0, 5)).toEqual([]);

    // Spread: who ran what, from each worker's 'job completed' log lines.
    const byWorker = workers.map((w) => completedBy(w));
    const spread = byWorker.map((s) => s.size);
    for (const n of spread) expect(n).toBeGreaterThan(0);
    const ranTwice = ids.filter((id) => byWorker.filter((s) => s.has(id)).length > 1).length;
    // Log lines still in the victim's output buffer died with it: those jobs completed on
    // the victim (BullMQ's processedBy says so while it still keeps the job) just before the kill.
    const unlogged = ids.flatMap((id, i) => (byWorker.every((s) => !s.has(id)) ? [{ id, type: specs[i].type }] : []));
    expect(unlogged.length).toBeLessThanOrEqual(JOBS / 50);
    for (const { id, type } of unlogged) {
      const job = await api.context.queues.get(ctx.keys.queueOf(type, id))!.getJob(id);
      // processedBy is the worker's name, `<host>:<pid>:<started>:<concurrency>` (worker-identity.ts).
      if (job) expect(parseWorkerName(job.processedBy ?? ''), id).toMatchObject({ host: hostname(), pid: victim.child.pid });
    }
    const stalledLines = workers.flatMap((w) => w.lines).filter((l) => String(l.msg).startsWith('job stalled'));
    const stalled = new Set(stalledLines.map((l) => String(l.jobId))).size;
    // The victim was busy (16 slots per job type, queues thousands deep): its active jobs
    // came back through stall recovery and completed elsewhere.
    expect(stalled).toBeGreaterThan(0);
    const completionsLogged = workers.flatMap((w) => w.lines).filter((l) => l.msg === 'job completed').length;
    const survivorsAfterKill = byWorker.map((s, i) => (i === 1 ? 0 : s.size)).reduce((a, b) => a + b, 0);

    const figures = {
      jobs: JOBS,
      mix: {
        echo: specs.filter((s) => s.type === 'echo').length,
        hash: specs.filter((s) => s.type === 'hash').length,
        sleep: specs.filter((s) => s.type === 'sleep').length,
      },
      hashRounds: HASH_ROUNDS,
      sleepMs: SLEEP_MS,
      workers: WORKERS,
      concurrencyPerWorker: Number(env.WORKER_CONCURRENCY),
      clusterMasters: 3,
      submittedMs,
      killedWorkerAtMs: killedAtMs,
      allTerminalMs: allDoneMs,
      jobsPerSecond: Math.round((JOBS / allDoneMs) * 1000),
      completedPerWorker: spread,
      killedWorker: { index: 1, loggedBeforeKill: victimDoneBeforeKill },
      survivorsCompleted: survivorsAfterKill,
      stalledRecoveries: stalled,
      completionsLogged,
      ranOnTwoWorkers: ranTwice,
      victimCompletedWithoutLogLine: unlogged.length,
      terminalEventsPerJob: 1,
      types: jobTypeNames.filter((t) => specs.some((s) => s.type === t)),
    };
    console.log(`three workers on the cluster: ${JSON.stringify(figures)}`);
    mkdirSync(new URL('../test-artifacts/cluster/', import.meta.url), { recursive: true });
    writeFileSync(new URL('../test-artifacts/cluster/three-workers.json', import.meta.url), `${JSON.stringify(figures, null, 2)}\n`);
  }, 240000);
});

/** Ids of the jobs a worker process logged as completed. */
function completedBy(w: WorkerProcess): Set<string> {
  return new Set(w.lines.filter((l) => l.msg === 'job completed').map((l) => String(l.jobId)));
}
