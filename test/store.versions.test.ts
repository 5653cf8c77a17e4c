import { createResultsStore, JobCancelledError, parseEvent, peekEvent, type JobEvent, type RedisClient } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, testRedis, waitFor } from './helpers';

const ctx = createTestContext();
const store = createResultsStore({ redis: ctx.redis, keys: ctx.keys, resultTtlSeconds: 600, tombstoneTtlSeconds: 3600 });
let sub: RedisClient;
const events: JobEvent[] = [];
const published: string[] = [];

beforeAll(async () => {
  sub = testRedis();
  sub.on('message', (_c, m) => {
    published.push(m);
    const e = parseEvent(m);
    if (e) events.push(e);
  });
  await sub.subscribe(ctx.keys.eventsChannel);
});
afterAll(async () => {
  await sub.quit();
  await ctx.cleanup();
});

const base = { type: 'echo' };

describe('results store', () => {
  it('keeps "completed" when the API\'s "queued" write lands after the worker finished', async () => {
    const id = 'race-1';
    expect(await store.apply({ ...base, id, state: 'active', attempt: 1, fields: { startedAt: 't1' }, event: { event: 'active' } })).toBe(true);
    expect(await store.apply({ ...base, id, state: 'completed', attempt: 1, fields: { result: { a: 1 } }, event: { event: 'completed' } })).toBe(true);
    const late = await store.apply({ ...base, id, state: 'queued', attempt: 1, fields: { submittedAt: 't0' }, event: { event: 'submitted' } });
    expect(late).toBe(false);
    const r = await store.read(id);
    expect(r?.state).toBe('completed');
    expect(r?.result).toEqual({ a: 1 });
    expect(r?.submittedAt).toBeNull();
    // The worker's first write found neither record nor events: the log starts with a
    // "submitted" of its own, dated as that write; the late one adds nothing.
    await waitFor(() => events.filter((e) => e.id === id).length === 3);
    const seen = events.filter((e) => e.id === id);
    expect(seen.map((e) => e.event)).toEqual(['submitted', 'active', 'completed']);
    expect(seen[0]).toMatchObject({ seq: '1', state: 'queued', at: seen[1].at, type: 'echo' });
    expect((await store.eventsSince(id, '0')).map((e) => [e.seq, e.event])).toEqual([
      ['1', 'submitted'],
      ['2', 'active'],
      ['3', 'completed'],
    ]);
  });

  it('starts no second log: a record deleted mid-run, a later attempt, and the API\'s own write get no extra "submitted"', async () => {
    // Deleted while it ran: the log is still there, so the outcome is the next entry.
    const deleted = 'gone-mid-run';
    await store.apply({ ...base, id: deleted, state: 'queued', attempt: 1, event: { event: 'submitted' } });
    await store.apply({ ...base, id: deleted, state: 'active', attempt: 1, event: { event: 'active' } });
    await ctx.redis.del(ctx.keys.record(deleted));
    await store.apply({ ...base, id: deleted, state: 'completed', attempt: 1, event: { event: 'completed' } });
    expect((await store.eventsSince(deleted, '0')).map((e) => e.event)).toEqual(['submitted', 'active', 'completed']);
    // A record and log both gone before attempt 2 (past their TTL): nothing made up for attempt 1.
    const later = 'second-attempt';
    await store.apply({ ...base, id: later, state: 'active', attempt: 2, event: { event: 'active', attempt: 2 } });
    expect((await store.eventsSince(later, '0')).map((e) => e.event)).toEqual(['active']);
    // The API's write is itself the "submitted" one.
    const normal = 'normal-submit';
    await store.apply({ ...base, id: normal, state: 'queued', attempt: 1, event: { event: 'submitted' } });
    await store.apply({ ...base, id: normal, state: 'active', attempt: 1, event: { event: 'active' } });
    expect((await store.eventsSince(normal, '0')).map((e) => e.event)).toEqual(['submitted', 'active']);
  });

  it('drops a progress write that arrives after the terminal state', async () => {
    const id = 'race-2';
    await store.apply({ ...base, id, state: 'active', attempt: 1 });
    await store.apply({ ...base, id, state: 'failed', attempt: 1, fields: { error: { name: 'Error', message: 'boom' } } });
    expect(await store.apply({ ...base, id, state: 'active', attempt: 1, fields: { progress: 50 } })).toBe(false);
    expect((await store.read(id))?.state).toBe('failed');
  });

  it('moves forward through a retry: queued again for the next attempt, then active', async () => {
    const id = 'retry-1';
    await store.apply({ ...base, id, state: 'queued', attempt: 1 });
    await store.apply({ ...base, id, state: 'active', attempt: 1 });
    expect(await store.apply({ ...base, id, state: 'delayed', attempt: 2, fields: { lastError: { name: 'E', message: 'x' } } })).toBe(true);
    // A stale write from attempt 1 cannot undo the retry.
    expect(await store.apply({ ...base, id, state: 'active', attempt: 1, fields: { progress: 10 } })).toBe(false);
    expect(await store.apply({ ...base, id, state: 'active', attempt: 2 })).toBe(true);
    const r = await store.read(id);
    expect(r?.state).toBe('active');
    expect(r?.lastError).toEqual({ name: 'E', message: 'x' });
  });

  it('gives a terminal record the result TTL and leaves a longer-lived tombstone', async () => {
    const id = 'ttl-1';
    await store.apply({ ...base, id, state: 'queued', attempt: 1 });
    expect(await ctx.redis.ttl(ctx.keys.record(id))).toBe(-1);
    await store.apply({ ...base, id, state: 'completed', attempt: 1, fields: { result: {} } });
    const ttl = await ctx.redis.ttl(ctx.keys.record(id));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(await ctx.redis.ttl(ctx.keys.tombstone(id))).toBeGreaterThan(4000);
    await ctx.redis.del(ctx.keys.record(id));
    expect(await store.read(id)).toBeNull();
    expect(await store.wasKnown(id)).toBe(true);
    expect(await store.wasKnown('never-seen')).toBe(false);
  });

  it('reads a record in one round trip with every field of the job resource', async () => {
    const id = 'shape-1';
    await store.apply({
      ...base,
      id,
      state: 'active',
      attempt: 1,
      fields: { progress: { step: 'x' }, attempts: { made: 1, max: 3 }, submittedAt: 's', startedAt: 't' },
    });
    expect(await store.read(id)).toEqual({
      id,
      type: 'echo',
      state: 'active',
      progress: { step: 'x' },
      attempts: { made: 1, max: 3 },
      submittedAt: 's',
      startedAt: 't',
      finishedAt: null,
      result: null,
      error: null,
      lastError: null,
    });
  });

  it('refuses to start an attempt while a cancel is pending, and writes nothing', async () => {
    const id = 'cancel-pending-1';
    await store.apply({ ...base, id, state: 'queued', attempt: 1, event: { event: 'submitted' } });
    await ctx.redis.set(ctx.keys.cancelFlag(id), '1');
    await expect(store.apply({ ...base, id, state: 'active', attempt: 1, event: { event: 'active', attempt: 1 } })).rejects.toBeInstanceOf(JobCancelledError);
    expect((await store.read(id))?.state).toBe('queued');
    expect((await store.eventsSince(id, '0')).map((e) => e.event)).toEqual(['submitted']);
  });

  it("applies an attempt's deferred active and its outcome in one call, in order, even with a cancel pending", async () => {
    const id = 'steps-1';
    await store.apply({ ...base, id, state: 'queued', attempt: 1, event: { event: 'submitted' } });
    // The attempt already finished: a cancel that arrived meanwhile loses to the outcome.
    await ctx.redis.set(ctx.keys.cancelFlag(id), '1');
    const applied = await store.applySteps([
      { ...base, id, state: 'active', attempt: 1, attemptFinished: true, fields: { startedAt: 's1' }, event: { event: 'active', attempt: 1 } },
      { ...base, id, state: 'completed', attempt: 1, fields: { result: { ok: 1 } }, event: { event: 'completed', attempt: 1 } },
    ]);
    expect(applied).toEqual([true, true]);
    const r = await store.read(id);
    expect(r).toMatchObject({ state: 'completed', startedAt: 's1', result: { ok: 1 } });
    expect(await ctx.redis.exists(ctx.keys.cancelFlag(id))).toBe(0);
    expect((await store.eventsSince(id, '0')).map((e) => [e.seq, e.event])).toEqual([
      ['1', 'submitted'],
      ['2', 'active'],
      ['3', 'completed'],
    ]);
    await waitFor(() => events.filter((e) => e.id === id).length === 3);
    expect(events.filter((e) => e.id === id).map((e) => e.event)).toEqual(['submitted', 'active', 'completed']);
    // Only the terminal event carries the final record, and it reads as the stored one.
    const [submitted, active, completed] = events.filter((e) => e.id === id);
    expect([submitted.record, active.record]).toEqual([undefined, undefined]);
    expect(store.fromEvent(completed)).toEqual(await store.read(id));
    await expect(store.applySteps([{ ...base, id, state: 'active', attempt: 2 }, { ...base, id: 'other', state: 'completed', attempt: 2 }])).rejects.toThrow(
      /same job/,
    );
  });

  it('lets a subscriber read the id, type and name off the start of every published event', async () => {
    // Events of every kind the store writes, for a job of its own; then every message heard so far.
    const id = 'peek-1';
    await store.apply({ ...base, id, state: 'queued', attempt: 1, event: { event: 'submitted' } });
    await store.apply({ ...base, id, state: 'active', attempt: 1, event: { event: 'active', attempt: 1 } });
    await store.apply({ ...base, id, state: 'active', attempt: 1, fields: { progress: 50 }, event: { event: 'progress', progress: 50, attempt: 1 } });
    await store.apply({ ...base, id, state: 'delayed', attempt: 2, event: { event: 'retrying', attempt: 2, error: { name: 'E', message: 'x' } } });
    await store.apply({ ...base, id, state: 'failed', attempt: 2, event: { event: 'failed', attempt: 2, error: { name: 'E', message: 'y' } } });
    await waitFor(() => published.filter((raw) => parseEvent(raw)?.id === id).length === 5);
    for (const raw of published) {
      const full = parseEvent(raw)!;
      expect(peekEvent(raw), raw).toEqual({ id: full.id, type: full.type, event: full.event });
    }
    // Not the store's shape, or an id JSON had to escape: the subscriber parses it whole instead.
    expect(peekEvent('{"event":"completed","id":"x","type":"echo"}')).toBeNull();
    const escaped = '{"seq":"1","id":"a\\"b","type":"echo","event":"completed","state":"completed","at":"t"}';
    expect(peekEvent(escaped)).toBeNull();
    expect(parseEvent(escaped)?.id).toBe('a"b');
    expect(peekEvent('{"seq":"1","id":"x","type":"echo","event":"exploded"}')).toBeNull();
  });
});
