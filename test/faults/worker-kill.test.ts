import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResultsStore, parseWorkerName } from '@async-jobs/shared';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from '../api-harness';
import { createTestContext, enqueue, waitFor, watchEvents, type EventWatch } from '../helpers';
import { writeFigures } from './figures';
import { startFleet, type Fleet } from './fleet';

const ctx = createTestContext();
const store = createResultsStore({ redis: ctx.redis, keys: ctx.keys, resultTtlSeconds: 600 });
/** Small lock and stall-check times: a dead worker's jobs are recovered within about three seconds, with room for a busy CI machine. */
const fast = { STALLED_INTERVAL_MS: '1000', LOCK_DURATION_MS: '2000', LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' };
const fleets: Fleet[] = [];
/** Where crash-worker.ts leaves its "crashed once" markers. */
const markers = mkdtempSync(join(tmpdir(), 'aj-crash-'));
let watch: EventWatch;
let api: RunningApi | undefined;
const figures = { injected: 0, accepted: 0, completed: 0, lost: 0 };
/** Jobs with plain UUIDs that the first test enqueued straight into BullMQ (no API: the relay gives them their tombstone). */
const enqueuedDirectly: string[] = [];

beforeAll(async () => {
  watch = await watchEvents(ctx);
});

afterAll(async () => {
  for (const f of fleets) await f.stop();
  await api?.close();
  await watch?.close();
  await ctx.cleanup();
  rmSync(markers, { recursive: true, force: true });
  writeFigures('worker-kill', { fault: 'Worker SIGKILLed mid-job (3 workers)', ...figures });
});

const terminalEvents = (id: string) => watch.of(id).filter((e) => ['completed', 'failed', 'cancelled'].includes(e.event));

/** Resolves once BullMQ holds no job of these queues waiting, delayed or active: every re-run is over. */
async function drained(types: string[], timeoutMs = 20000) {
  const queues = types.flatMap((t) => ctx.keys.queuesOf(t)).map((q) => new Queue(q, { connection: ctx.redis, prefix: ctx.keys.prefixOf(q) }));
  try {
    await waitFor(
      async () => {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts('wait', 'delayed', 'active', 'prioritized')));
        return counts.every((c) => Object.values(c).every((n) => n === 0));
      },
      timeoutMs,
      100,
    );
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

/**
 * Every job has exactly one terminal event, `completed`, and a completed record, also
 * once BullMQ has finished every re-run; returns how many do.
 */
async function expectCompletedOnce(ids: string[], types: string[], timeoutMs: number): Promise<number> {
  await waitFor(() => ids.every((id) => terminalEvents(id).length > 0), timeoutMs, 50).catch(async (err: Error) => {
    const open = ids.filter((id) => terminalEvents(id).length === 0);
    const states = await Promise.all(open.map(async (id) => ({ id, record: (await store.read(id))?.state, events: watch.of(id).map((e) => e.event) })));
    throw new Error(`${err.message}: no terminal event for ${JSON.stringify(states)}`);
  });
  await drained(types);
  let ok = 0;
  for (const id of ids) {
    const record = await store.read(id);
    const seen = `${id}: ${JSON.stringify(record?.error ?? record?.state)}`;
    expect(
      terminalEvents(id).map((e) => e.event),
      seen,
    ).toEqual(['completed']);
    expect(record?.state, seen).toBe('completed');
    if (record?.state === 'completed' && terminalEvents(id).length === 1) ok++;
  }
  return ok;
}

describe('workers SIGKILLed while they hold jobs', () => {
  it('recover every job at each kill point, complete it exactly once, and run the interrupted attempt again', async () => {
    // One job per worker: with more, a kill meant for one job also interrupts its neighbours, and a
    // job interrupted three times ends failed with a StalledError by design (MAX_STALLED_COUNT).
    const fleet = startFleet(ctx, 3, { ...fast, WORKER_TYPES: 'sleep', WORKER_CONCURRENCY: '1', CRASH_MARKERS: markers }, 'test/faults/crash-worker.ts');
    fleets.push(fleet);
    await fleet.ready();

    const points = ['before', 'during', 'afterrun'] as const;
    // WORKER_CONCURRENCY is per queue: a worker of a sleep in N shards would hold up to N jobs,
    // and one kill would take a neighbour's kill point with it. So every job goes to sleep's
    // first queue (its one queue when it is not sharded), drawing ids until they land there.
    const [firstQueue] = ctx.keys.queuesOf('sleep');
    const inFirstQueue = (make: () => string) => {
      for (;;) {
        const id = make();
        if (ctx.keys.queueOf('sleep', id) === firstQueue) return id;
      }
    };
    const planned = points.flatMap((p) => [1, 2].map(() => inFirstQueue(() => `${p}.${randomUUID()}`)));
    const plain = [1, 2, 3, 4].map(() => inFirstQueue(randomUUID));
    enqueuedDirectly.push(...plain);
    for (const id of [...planned, ...plain]) await enqueue(ctx, 'sleep', { ms: 600 }, { jobId: id, attempts: 1 });

    const ok = await expectCompletedOnce([...planned, ...plain], ['sleep'], 60000);
    figures.accepted += planned.length + plain.length;
    figures.completed += ok;
    // Each planned job killed the worker that first held it, once.
    await waitFor(() => fleet.deaths() === planned.length, 10000).catch((err: Error) => {
      const dead = fleet.all.filter((w) => w.child.exitCode !== null || w.child.signalCode !== null);
      const how = dead.map((w) => ({ exit: w.child.exitCode ?? w.child.signalCode, last: w.lines.at(-1)?.msg, stderr: w.stderr().slice(-300) }));
      throw new Error(`${err.message}: ${fleet.deaths()} deaths for ${planned.length} kill points: ${JSON.stringify(how)}`);
    });
    figures.injected += fleet.deaths();
    const crashedPid = (id: string) => readFileSync(join(markers, id), 'utf8');
    for (const id of planned) expect(crashedPid(id), id).toMatch(/^\d+$/);

    const queues = new Map(ctx.keys.queuesOf('sleep').map((q) => [q, new Queue(q, { connection: ctx.redis, prefix: ctx.keys.prefixOf(q) })]));
    try {
      for (const id of planned) {
        const job = (await queues.get(ctx.keys.queueOf('sleep', id))!.getJob(id))!;
        // At-least-once: BullMQ found the dead worker's lock expired and ran the job again, elsewhere.
        expect(job.stalledCounter, id).toBeGreaterThanOrEqual(1);
        expect(parseWorkerName(job.processedBy ?? '')?.pid, id).not.toBe(Number(crashedPid(id)));
        const record = (await store.read(id))!;
        // A recovery after a crash is the same attempt again, not a retry.
        expect(record.attempts).toEqual({ made: 1, max: 1 });
        expect(record.result).toEqual({ sleptMs: 600 });
        // BullMQ logs each start: the killed one and the one that finished it.
        expect(watch.of(id).filter((e) => e.event === 'active').length, id).toBe(2);
      }
    } finally {
      await Promise.all([...queues.values()].map((q) => q.close()));
    }
  }, 90000);

  it('lose no job submitted through the API while workers are killed at random', async () => {
    const fleet = startFleet(ctx, 3, { ...fast, WORKER_TYPES: 'sleep,echo,hash', WORKER_CONCURRENCY: '3' });
    fleets.push(fleet);
    await fleet.ready();
    api = await startApi(ctx);

    const ids: string[] = [];
    const bodies = () => {
      const n = randomInt(10);
      if (n < 6) return { type: 'sleep', data: { ms: 200 + randomInt(600) } };
      if (n < 8) return { type: 'hash', data: { text: `t${n}`, rounds: 20000 } };
      return { type: 'echo', data: { n } };
    };
    const submitting = (async () => {
      for (let i = 0; i < 60; i++) {
        const r = await call(api!.url, 'POST', '/jobs', bodies());
        expect(r.status).toBe(202);
        ids.push(r.body.id);
        await new Promise((res) => setTimeout(res, 40));
      }
    })();
    let kills = 0;
    const killing = (async () => {
      for (let k = 0; k < 5; k++) {
        // Wait for the fleet to have work in hand, then kill a random worker.
        await waitFor(() => ids.length > 0 && watch.events.some((e) => e.event === 'active' && ids.includes(e.id)), 10000);
        await new Promise((res) => setTimeout(res, 400 + randomInt(400)));
        await fleet.kill((live) => live[randomInt(live.length)]);
        kills++;
      }
    })();
    await Promise.all([submitting, killing]);
    figures.injected += kills;
    figures.accepted += ids.length;
    const ok = await expectCompletedOnce(ids, ['sleep', 'echo', 'hash'], 60000);
    figures.completed += ok;
    expect(ok).toBe(ids.length);
    figures.lost = figures.accepted - figures.completed;
    // No job and no tombstone for an id the client was not told about, and none missing: a
    // killed worker neither drops a job nor leaves a half-written one behind. (The jobs the
    // first test put straight into BullMQ got their tombstones from the relay, which lists them.)
    const keys = await ctx.allKeys();
    // Any group's prefix; a shard's queue is its type and `~k`.
    const prefix = `\\{${ctx.namespace}:aj(?::[^}]*)?\\}`;
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    const idsIn = (re: RegExp) => keys.flatMap((k) => re.exec(k)?.[1] ?? []).sort();
    expect(idsIn(new RegExp(`^${prefix}:(?:sleep|echo|hash)(?:~\\d+)?:(${uuid}):tomb$`))).toEqual([...ids, ...enqueuedDirectly].sort());
    expect(idsIn(new RegExp(`^${prefix}:(?:sleep|echo|hash)(?:~\\d+)?:(${uuid})$`))).toEqual([...ids, ...enqueuedDirectly].sort());
  }, 120000);
});
