import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, onCluster, waitFor } from './helpers';
import { spawnWorker, type WorkerProcess } from './worker-harness';

/**
 * Two worker processes, as `npm run start:worker` twice would run them: pub/sub fans
 * every message out to both, the list hands each element to exactly one of them.
 */
const ctx = createTestContext();
let workers: WorkerProcess[] = [];

/** What one worker logged as `Task get <elem>` from one listener. */
const got = (w: WorkerProcess, listener: 'list' | 'pubsub') =>
  w.lines.filter((l) => l.listener === listener && typeof l.msg === 'string' && l.msg.startsWith('Task get ')).map((l) => String(l.elem));

beforeAll(async () => {
  workers = [spawnWorker(ctx), spawnWorker(ctx)];
  for (const w of workers) {
    await w.line((l) => l.msg === 'pubsub listener subscribed', 30000);
    await w.line((l) => l.msg === 'list listener started', 30000);
  }
}, 60000);

afterAll(async () => {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await ctx.cleanup();
});

describe('two workers', () => {
  it('both log every pub/sub message (fan-out)', async () => {
    const sent = ['p0', 'p1', 'p2', 'p3', 'p4'];
    for (const m of sent) {
      // PUBLISH counts the subscribers of the node that took it: both on one Redis, but on a
      // Cluster only those connected to that node (it still reaches all, as checked below).
      const receivers = await ctx.redis.publish(ctx.keys.pubsubChannel, m);
      if (!onCluster) expect(receivers).toBe(2);
    }
    for (const w of workers) {
      await waitFor(() => got(w, 'pubsub').length >= sent.length);
      // A Cluster client sends each PUBLISH to any node, and messages that entered at
      // different nodes may arrive in another order; on one Redis the order is kept.
      if (onCluster) expect([...got(w, 'pubsub')].sort()).toEqual(sent);
      else expect(got(w, 'pubsub')).toEqual(sent);
    }
  });

  it('share the list: each element is taken by exactly one of them (competing consumers)', async () => {
    const pushed = Array.from({ length: 20 }, (_, i) => `e${i}`);
    const total = () => workers.reduce((n, w) => n + got(w, 'list').length, 0);
    // One at a time, as the article's producers do; each element is waited for.
    for (const [i, elem] of pushed.entries()) {
      await ctx.redis.lpush(ctx.keys.prodconsList, elem);
      await waitFor(() => total() >= i + 1);
    }
    const [a, b] = workers.map((w) => got(w, 'list'));
    expect([...a, ...b].sort()).toEqual([...pushed].sort());
    expect(a.filter((x) => b.includes(x))).toEqual([]);
    // Redis hands each element to the client that has waited longest, so both get some.
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(await ctx.redis.llen(ctx.keys.prodconsList)).toBe(0);
  });

  it('stop on SIGTERM, saying how much each listener took in', async () => {
    for (const w of workers) w.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
    const stopped = (listener: string) =>
      workers.map((w) => w.lines.find((l) => l.listener === listener && l.msg === `${listener} listener stopped`)?.consumed);
    const listCounts = stopped('list') as number[];
    expect(listCounts[0] + listCounts[1]).toBe(20);
    expect(stopped('pubsub')).toEqual([5, 5]);
  });
});
