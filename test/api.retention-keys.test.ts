import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteCancelRequested } from '../apps/api/src/jobs/cancel-request';
import { cancelUnstarted } from '../apps/api/src/jobs/cancel-unstarted';
import { call } from './api-harness';
import { createTestContext, enqueue, listenToEvents, waitFor, type TestContext } from './helpers';
import { useApi } from './system-harness';

/**
 * The keys the API writes beside BullMQ's expire on their own: a tombstone outlives its job
 * by RESULT_TTL_SECONDS + TOMBSTONE_TTL_SECONDS (plus the job's delay), an idempotency key
 * lives IDEMPOTENCY_TTL_SECONDS. None is left to grow Redis forever.
 */
const sys = useApi();
const { ctx } = sys;
const config = ctx.config();
const tombSeconds = config.RESULT_TTL_SECONDS + config.TOMBSTONE_TTL_SECONDS;

let heard: Awaited<ReturnType<typeof listenToEvents>>;
beforeAll(async () => {
  heard = await listenToEvents(ctx);
});
afterAll(async () => {
  await heard.close();
});

const tombTtl = (c: TestContext, type: string, id: string) => c.redis.ttl(c.keys.tombstone(type, id));

describe('keys the API writes beside a job', () => {
  it("expire: a submitted job's tombstone, a delayed one's later by its delay, and its idempotency key", async () => {
    const sub = await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data: { ttl: 1 } }, { 'Idempotency-Key': 'retention-keys-1' });
    expect(sub.status).toBe(202);
    const ttl = await tombTtl(ctx, 'echo', sub.body.id);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(tombSeconds);

    const keyTtl = await ctx.redis.ttl(ctx.keys.idempotency('retention-keys-1'));
    expect(keyTtl).toBeGreaterThan(0);
    expect(keyTtl).toBeLessThanOrEqual(config.IDEMPOTENCY_TTL_SECONDS);

    const delayed = await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data: { ttl: 2 }, options: { delay: 60000 } });
    expect(delayed.status).toBe(202);
    const delayedTtl = await tombTtl(ctx, 'echo', delayed.body.id);
    expect(delayedTtl).toBeGreaterThan(tombSeconds);
    expect(delayedTtl).toBeLessThanOrEqual(tombSeconds + 60);
  });

  it('expire for a job another BullMQ producer added, once the relay has announced it, delayed or not', async () => {
    const queue = new Queue('echo', { connection: ctx.redis, prefix: ctx.keys.prefixOf('echo') });
    let plain: string;
    let delayed: string;
    try {
      plain = (await queue.add('echo', { from: 'elsewhere' })).id!;
      delayed = (await queue.add('echo', { from: 'elsewhere', later: true }, { delay: 60000 })).id!;
    } finally {
      await queue.close();
    }
    await waitFor(() => [plain, delayed].every((id) => heard.heard.some((e) => e.id === id && e.event === 'submitted')));
    const ttl = await tombTtl(ctx, 'echo', plain);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(tombSeconds);
    const delayedTtl = await tombTtl(ctx, 'echo', delayed);
    expect(delayedTtl).toBeGreaterThan(tombSeconds);
    expect(delayedTtl).toBeLessThanOrEqual(tombSeconds + 60);
  });
});

describe('a job another producer added, cancelled before any relay listed it', () => {
  // No API and no relay here: the job has no tombstone until the cancel writes one.
  const bare = createTestContext();
  const deps = { redis: bare.redis, keys: bare.keys, config: bare.config() };
  afterAll(async () => {
    await bare.cleanup();
  });

  it('gets a tombstone that expires when it is cancelled while queued', async () => {
    const id = await enqueue(bare, 'echo', { queued: true });
    expect(await bare.redis.exists(bare.keys.tombstone('echo', id))).toBe(0);
    expect(await cancelUnstarted(deps, 'echo', id)).toBe('removed');
    const ttl = await tombTtl(bare, 'echo', id);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(tombSeconds);
  });

  it('gets a tombstone that expires when the API notes a cancel for it, as it does for a job a worker holds', async () => {
    const id = await enqueue(bare, 'echo', { running: true });
    await noteCancelRequested(deps, 'echo', id);
    const ttl = await tombTtl(bare, 'echo', id);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(tombSeconds);
  });
});
