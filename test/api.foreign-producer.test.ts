import { randomUUID } from 'node:crypto';
import { jobResourceSchema } from '@async-jobs/shared';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { watchEvents, waitFor, type EventWatch } from './helpers';
import { parseBlock, type SseEvent } from './sse-client';
import { useApi } from './system-harness';

/**
 * A job that another BullMQ producer adds (any BullMQ client, in any language, or the
 * Board's "add") is a job like ours: read with its true options, listed, announced.
 */
const sys = useApi();
let watch: EventWatch;
beforeAll(async () => {
  watch = await watchEvents(sys.ctx);
});
afterAll(async () => {
  await watch.close();
});

describe('a job added by a plain BullMQ producer', () => {
  it('reads with its true attempts, is listed by GET /jobs, and is announced as submitted on jobs:events', async () => {
    // Nothing of ours: BullMQ's own id, the data as it is, no extras.
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf('echo') });
    let id: string;
    try {
      const added = await queue.add('echo', { from: 'elsewhere' }, { attempts: 4 });
      id = added.id!;
    } finally {
      await queue.close();
    }

    const read = await call(sys.api.url, 'GET', `/jobs/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, type: 'echo', state: 'queued', attempts: { made: 0, max: 4 }, error: null });

    const submitted = await watch.next((e) => e.id === id && e.event === 'submitted');
    expect(submitted).toMatchObject({ type: 'echo', state: 'queued' });

    // The relay lists it once it has seen BullMQ's `added` entry.
    const listed = await waitFor(async () => {
      const r = await call(sys.api.url, 'GET', '/jobs?type=echo');
      return r.body.jobs?.find((j: { id: string }) => j.id === id);
    });
    expect(listed).toMatchObject({ id, state: 'queued', attempts: { made: 0, max: 4 } });
    const all = await call(sys.api.url, 'GET', '/jobs?state=queued');
    expect(all.body.jobs.map((j: { id: string }) => j.id)).toContain(id);
  });

  it('reads cancelled with a RemovedError, and is announced so, once an operator removes it', async () => {
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf('echo') });
    try {
      const added = await queue.add('echo', { from: 'elsewhere' }, { attempts: 2, delay: 60_000 });
      const id = added.id!;
      // Once the relay has seen it (it is then listed), its removal is a job of ours being removed.
      await waitFor(async () => (await call(sys.api.url, 'GET', '/jobs?type=echo')).body.jobs?.some((j: { id: string }) => j.id === id));
      await queue.remove(id);

      const read = await call(sys.api.url, 'GET', `/jobs/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, type: 'echo', state: 'cancelled', attempts: { max: 2 }, error: { name: 'RemovedError' } });
      expect((await watch.next((e) => e.id === id && e.event === 'cancelled')).type).toBe('echo');
    } finally {
      await queue.close();
    }
  });

  it('streams only its own changes when a job of another queue has the same id', async () => {
    // BullMQ's ids are per queue: two producers can give jobs of two types one id.
    const id = `clash-${randomUUID()}`;
    // The queue each id goes to (a shard, where a type is sharded), as the API reads it.
    const queueOf = (type: string) => {
      const name = sys.ctx.keys.queueOf(type, id);
      return new Queue(name, { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf(name) });
    };
    const echo = queueOf('echo');
    const sleep = queueOf('sleep');
    const ac = new AbortController();
    try {
      await echo.add('echo', { mine: true }, { jobId: id, delay: 60_000 });
      const res = await fetch(`${sys.api.url}/jobs/${id}/events`, { headers: { accept: 'text/event-stream' }, signal: ac.signal });
      expect(res.status).toBe(200);
      const events: SseEvent[] = [];
      const reading: Promise<void> = (async () => {
        const decoder = new TextDecoder();
        let text = '';
        for await (const chunk of res.body!) {
          text += decoder.decode(chunk, { stream: true });
          const blocks = text.split('\n\n');
          text = blocks.pop()!;
          for (const b of blocks) {
            const e = parseBlock(b);
            if (e) events.push(e);
          }
        }
      })();
      // Awaited below; when a step fails before that, the abort in `finally` rejects it unheard.
      reading.catch(() => undefined);
      await waitFor(() => events.length > 0);

      const other = await sleep.add('sleep', { ms: 1 }, { jobId: id, delay: 60_000 });
      await other.updateProgress(77);
      await other.remove();
      // The relay has read the other job's removal, so the stream's reader has too.
      await watch.next((e) => e.id === id && e.type === 'sleep' && e.event === 'cancelled');
      const mine = await echo.getJob(id);
      await mine!.updateProgress(5);
      await mine!.remove();
      await reading;

      expect(events.map((e) => e.event)).toEqual(['state', 'progress', 'cancelled']);
      expect(events.map((e) => e.data.type)).toEqual(['echo', 'echo', 'echo']);
      expect(events[1].data.progress).toBe(5);
    } finally {
      ac.abort();
      await echo.close();
      await sleep.close();
    }
  });

  it('reads and lists a job whose id holds spaces, slashes and other scripts, as BullMQ allows', async () => {
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf('echo') });
    const id = `from elsewhere/ünï ✓ ${randomUUID()}`;
    try {
      await queue.add('echo', { from: 'elsewhere' }, { jobId: id });
    } finally {
      await queue.close();
    }
    const path = `/jobs/${encodeURIComponent(id)}`;
    const read = await call(sys.api.url, 'GET', path);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, type: 'echo', state: 'queued', links: { self: path } });
    const listed = await waitFor(async () => {
      const r = await call(sys.api.url, 'GET', '/jobs?type=echo');
      return r.body.jobs?.find((j: { id: string }) => j.id === id);
    });
    expect(listed).toMatchObject({ id, state: 'queued' });
  });

  it('reads attempts another writer stored as text, fractions or below zero as whole numbers, and its progress as stored', async () => {
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf('echo') });
    const cases: { id: string; made: number; max: number; progress: unknown }[] = [];
    try {
      const odd = async (attempts: unknown, atm: string, progress: unknown, made: number, max: number) => {
        const job = await queue.add('echo', { n: cases.length }, { attempts: attempts as number });
        await sys.ctx.redis.hset(`${sys.ctx.keys.prefixOf('echo')}:echo:${job.id}`, 'atm', atm, 'progress', JSON.stringify(progress));
        cases.push({ id: job.id!, made, max, progress });
      };
      await odd('x', 'x', 150, 0, 1);
      await odd(2.5, '-1', 'half way', 0, 3);
      await odd(4, '1.5', [1, 2], 1, 4);
      await odd(3, '2', true, 2, 3);
    } finally {
      await queue.close();
    }
    for (const c of cases) {
      const read = await call(sys.api.url, 'GET', `/jobs/${c.id}`);
      expect(read.status).toBe(200);
      expect(read.body.attempts, c.id).toEqual({ made: c.made, max: c.max });
      expect(read.body.progress, c.id).toEqual(c.progress);
      // What the OpenAPI document promises of every job resource.
      const checked = jobResourceSchema.safeParse(read.body);
      expect(checked.error?.issues ?? [], c.id).toEqual([]);
    }
  });

  it("trims its type's list index of entries past the horizon when it lists such a job, as a submit does", async () => {
    // A type fed only by other producers (or schedules) is never trimmed by a submit of ours.
    const index = sys.ctx.keys.typeIndex(sys.ctx.keys.layout.groupOfQueue('echo'), 'echo');
    const ancient = `${'1'.padStart(13, '0')}:0000:long-gone`;
    await sys.ctx.redis.zadd(index, 0, ancient);
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf('echo') });
    let id: string;
    try {
      id = (await queue.add('echo', { n: 'trim' })).id!;
    } finally {
      await queue.close();
    }
    await watch.next((e) => e.id === id && e.event === 'submitted');
    expect(await sys.ctx.redis.zscore(index, ancient)).toBeNull();
    expect((await sys.ctx.redis.zrange(index, 0, -1)).some((m) => m.endsWith(`:${id}`))).toBe(true);
  });

  it('reads a job whose timestamp no date can hold without failing it or the listing, and lists the next', async () => {
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf('echo') });
    let odd: string[];
    let next: string;
    try {
      // Nanoseconds, and text: a producer in another language may write either.
      const nanos = await queue.add('echo', { n: 1 }, { timestamp: 1_796_405_936_309_000_000 });
      const text = await queue.add('echo', { n: 2 }, { timestamp: 'soon' as unknown as number });
      odd = [nanos.id!, text.id!];
      next = (await queue.add('echo', { n: 3 })).id!;
    } finally {
      await queue.close();
    }
    for (const id of odd) {
      const read = await call(sys.api.url, 'GET', `/jobs/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, state: 'queued', submittedAt: '1970-01-01T00:00:00.000Z' });
    }
    // The relay lists the job after them: the odd ones did not stop it.
    const page = await waitFor(async () => {
      const r = await call(sys.api.url, 'GET', '/jobs?type=echo&limit=100');
      return r.body.jobs?.some((j: { id: string }) => j.id === next) ? r : undefined;
    });
    expect(page.status).toBe(200);
    const ids = page.body.jobs.map((j: { id: string }) => j.id);
    for (const id of odd) expect(ids).not.toContain(id);
  });
});
