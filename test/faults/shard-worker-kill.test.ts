import { parseWorkerName } from '@async-jobs/shared';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from '../api-harness';
import { createTestContext, waitFor, watchEvents, type EventWatch } from '../helpers';
import { startFleet, type Fleet } from './fleet';

// sleep split into 3 shards, each in a group of its own (on a cluster: its own hash tag, so its own slot).
const ctx = createTestContext({ QUEUE_SHARDS: 'sleep=3' });
const fast = { STALLED_INTERVAL_MS: '1000', LOCK_DURATION_MS: '2000', LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' };
let watch: EventWatch;
let api: RunningApi | undefined;
let fleet: Fleet | undefined;
const shards = ctx.keys.queuesOf('sleep');
const queues = new Map(shards.map((q) => [q, new Queue(q, { connection: ctx.redis, prefix: ctx.keys.prefixOf(q) })]));

beforeAll(async () => {
  watch = await watchEvents(ctx);
});

afterAll(async () => {
  await fleet?.stop();
  await api?.close();
  await watch?.close();
  await Promise.all([...queues.values()].map((q) => q.close()));
  await ctx.cleanup();
});

const terminal = (id: string) => watch.of(id).filter((e) => ['completed', 'failed', 'cancelled'].includes(e.event));

describe('a worker SIGKILLed while it holds jobs of every shard of a type', () => {
  it('loses none: each job is run again by a live worker and completes exactly once', async () => {
    fleet = startFleet(ctx, 3, { ...fast, WORKER_TYPES: 'sleep', WORKER_CONCURRENCY: '4' });
    await fleet.ready();
    api = await startApi(ctx);

    const ids: string[] = [];
    // Enough jobs that every shard has some (the shard is the id's hash), long enough to be caught running.
    while (shards.some((q) => !ids.some((id) => ctx.keys.queueOf('sleep', id) === q)) || ids.length < 18) {
      const r = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 1500 } });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }

    // Every shard has a job running, and one worker holds jobs of at least two shards: kill that one.
    const holders = await waitFor(
      async () => {
        const active = (
          await Promise.all([...queues].map(async ([q, queue]) => (await queue.getActive()).map((j) => ({ q, id: j.id!, by: j.processedBy ?? '' }))))
        ).flat();
        if (!shards.every((q) => active.some((a) => a.q === q))) return null;
        const byPid = new Map<string, typeof active>();
        for (const a of active) {
          const pid = String(parseWorkerName(a.by)?.pid);
          byPid.set(pid, [...(byPid.get(pid) ?? []), a]);
        }
        const [pid, held] = [...byPid].sort((a, b) => new Set(b[1].map((x) => x.q)).size - new Set(a[1].map((x) => x.q)).size)[0] ?? [];
        return held && new Set(held.map((x) => x.q)).size >= 2 ? { pid, held } : null;
      },
      20000,
      20,
    );
    const victim = await fleet.kill((live) => live.find((w) => String(w.child.pid) === holders.pid) ?? live[0]);
    expect(String(victim.child.pid)).toBe(holders.pid);

    // Every job ends completed, once, in jobs:events and in its record.
    await waitFor(() => ids.every((id) => terminal(id).length > 0), 60000, 50);
    for (const id of ids) {
      expect(
        terminal(id).map((e) => e.event),
        id,
      ).toEqual(['completed']);
      const r = await call(api.url, 'GET', `/jobs/${id}`);
      expect(r.body.state, id).toBe('completed');
    }
    // The killed worker's jobs, in two shards or more, were recovered by BullMQ and run again elsewhere.
    for (const h of holders.held) {
      const job = (await queues.get(h.q)!.getJob(h.id))!;
      expect(job.stalledCounter, h.id).toBeGreaterThanOrEqual(1);
      expect(parseWorkerName(job.processedBy ?? '')?.pid, h.id).not.toBe(Number(holders.pid));
    }
    // Nothing is left waiting or running in any shard.
    for (const queue of queues.values())
      expect(await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized')).toEqual({ wait: 0, active: 0, delayed: 0, prioritized: 0 });
  }, 120000);
});
