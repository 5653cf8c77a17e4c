import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyCallbackSignature } from '@async-jobs/shared';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { holdFollower } from './follower-hold';
import { refuseFirstAdd } from './refuse-first-add';
import { createTestContext, waitFor, watchEvents } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const SECRET = 'whsec_test_secret';
const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker;
let receiver: http.Server;
let base: string;

interface Delivery {
  path: string;
  signature: string;
  body: string;
}
const deliveries: Delivery[] = [];
/** Answers held back, for paths under /hang/, until the test lets them go. */
const held: http.ServerResponse[] = [];
/** Per path: how many times to answer 500 before 200 (missing: always 200). */
const failFirst = new Map<string, number>();

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '';
      deliveries.push({ path, signature: String(req.headers.signature ?? ''), body });
      if (path.startsWith('/hang/')) return void held.push(res);
      const left = failFirst.get(path) ?? 0;
      failFirst.set(path, left - 1);
      res.writeHead(left > 0 ? 500 : 200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const { port } = receiver.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  const env = {
    CALLBACK_SECRET: SECRET,
    CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${port}`,
    CALLBACK_BACKOFF_MS: '50',
    CALLBACK_MAX_ATTEMPTS: '4',
    // Longer than any wait here: a held receiver is never given up on during a test.
    CALLBACK_TIMEOUT_MS: '60000',
  };
  api = await startApi(ctx, env);
  worker = await startWorker(ctx, env);
});
afterAll(async () => {
  await worker.close();
  await api.close();
  await new Promise((r) => receiver.close(r));
  await ctx.cleanup();
});

const of = (path: string) => deliveries.filter((d) => d.path === path);
/** The set of jobs due a callback in the queue group of a job of `type`. */
const dueSetOf = (type: string, id: string) => ctx.keys.callbacksDue(ctx.keys.layout.groupOfQueue(ctx.keys.queueOf(type, id)));

/**
 * A sleep job with a callback to `path` whose every run fails after `timeoutMs`, once its
 * first failure was called back and it left the callbacks due (`dueAtSubmit`: its entry there
 * right after the submit). A set left holding a delivered job kept the relay reading at its
 * quick pace for the job's tombstone's life (8 days).
 */
async function failedOnceWithCallback(path: string, timeoutMs: number) {
  const sub = await call(api.url, 'POST', '/jobs', {
    type: 'sleep',
    data: { ms: 10_000 },
    options: { callbackUrl: `${base}${path}`, attempts: 1, timeout: timeoutMs },
  });
  const id = sub.body.id as string;
  const due = dueSetOf('sleep', id);
  const dueAtSubmit = await ctx.redis.zscore(due, id);
  await waitFor(() => of(path).length === 1);
  await waitFor(async () => (await ctx.redis.zscore(due, id)) === null);
  return { id, due, dueAtSubmit };
}
const submit = (data: unknown, callbackUrl: string, type = 'echo') => call(api.url, 'POST', '/jobs', { type, data, options: { callbackUrl } });

describe('completion callbacks', () => {
  it('go on while more receivers than a worker runs jobs at once hang', async () => {
    // WORKER_CONCURRENCY is 10 here (the default): at that concurrency these would hold every delivery slot.
    try {
      const slow = await Promise.all(Array.from({ length: 12 }, (_, i) => submit({ slow: i }, `${base}/hang/${i}`)));
      for (const s of slow) expect(s.status).toBe(202);
      await waitFor(() => held.length === 12);
      const quick = await submit({ quick: true }, `${base}/hook/beside-the-slow`);
      await waitFor(async () => (await call(api.url, 'GET', `/jobs/${quick.body.id}`)).body.callback?.state === 'delivered');
      // Delivered with all twelve still held, none of them answered or timed out.
      expect(held.filter((r) => !r.writableEnded)).toHaveLength(12);
    } finally {
      // Answered whatever happened above: held, they would keep the receiver and twelve deliveries open.
      for (const r of held.splice(0)) r.writeHead(200).end();
    }
  });

  it('POSTs the signed final resource, retrying until the receiver accepts', async () => {
    failFirst.set('/hook/a', 2);
    const sub = await submit({ order: 42 }, `${base}/hook/a`);
    expect(sub.status).toBe(202);
    expect(sub.body.callback).toEqual({ state: 'pending', attempts: 0, lastStatus: null });
    await waitFor(async () => (await call(api.url, 'GET', `/jobs/${sub.body.id}`)).body.callback?.state === 'delivered');
    const job = (await call(api.url, 'GET', `/jobs/${sub.body.id}`)).body;
    expect(job.callback).toEqual({ state: 'delivered', attempts: 3, lastStatus: 200 });
    const got = of('/hook/a');
    expect(got).toHaveLength(3);
    for (const d of got) {
      expect(verifyCallbackSignature(SECRET, d.signature, d.body)).toBe(true);
      expect(verifyCallbackSignature('another-secret', d.signature, d.body)).toBe(false);
      expect(verifyCallbackSignature(SECRET, d.signature, d.body.replace('42', '43'))).toBe(false);
    }
    expect(JSON.parse(got[2].body)).toMatchObject({ id: sub.body.id, state: 'completed', result: { order: 42 } });
  });

  it('delivers the callback of a job submitted through another API process than the one relaying', async () => {
    // The relay holder knows its own submits (and skips asking Redis about those without a
    // callback); a job another API process wrote must still be found in the callbacks-due set.
    const other = await startApi(ctx, {
      CALLBACK_SECRET: SECRET,
      CALLBACK_ALLOWED_HOSTS: new URL(base).host,
      CALLBACK_BACKOFF_MS: '50',
      CALLBACK_MAX_ATTEMPTS: '4',
    });
    try {
      const holder = await ctx.redis.get(ctx.keys.relayLease);
      expect(holder).not.toBeNull();
      const sub = await call(other.url, 'POST', '/jobs', { type: 'echo', data: { via: 'other' }, options: { callbackUrl: `${base}/hook/other` } });
      expect(sub.status).toBe(202);
      await waitFor(() => of('/hook/other').length === 1);
      expect(JSON.parse(of('/hook/other')[0].body)).toMatchObject({ id: sub.body.id, state: 'completed', result: { via: 'other' } });
      // The lease did not move: the first API relayed the other's job.
      expect(await ctx.redis.get(ctx.keys.relayLease)).toBe(holder);
    } finally {
      await other.close();
    }
  });

  it('gives up after CALLBACK_MAX_ATTEMPTS and says so in the job resource', async () => {
    failFirst.set('/hook/down', 100);
    const sub = await submit({}, `${base}/hook/down`);
    await waitFor(async () => (await call(api.url, 'GET', `/jobs/${sub.body.id}`)).body.callback?.state === 'failed');
    expect((await call(api.url, 'GET', `/jobs/${sub.body.id}`)).body.callback).toEqual({ state: 'failed', attempts: 4, lastStatus: 500 });
    expect(of('/hook/down')).toHaveLength(4);
  });

  it('delivers the outcome of a failed job and of a job cancelled before it ran', async () => {
    const failing = await call(api.url, 'POST', '/jobs', {
      type: 'sleep',
      data: { ms: 10_000 },
      options: { callbackUrl: `${base}/hook/failed`, attempts: 1, timeout: 20 },
    });
    await waitFor(() => of('/hook/failed').length === 1);
    expect(JSON.parse(of('/hook/failed')[0].body)).toMatchObject({ id: failing.body.id, state: 'failed' });

    const delayed = await call(api.url, 'POST', '/jobs', {
      type: 'echo',
      data: {},
      options: { callbackUrl: `${base}/hook/cancelled`, delay: 60000 },
    });
    expect((await call(api.url, 'DELETE', `/jobs/${delayed.body.id}`)).status).toBe(200);
    await waitFor(() => of('/hook/cancelled').length === 1);
    expect(JSON.parse(of('/hook/cancelled')[0].body)).toMatchObject({ id: delayed.body.id, state: 'cancelled' });
  });

  it('queues a delivery again when Redis refused it the first time, so the callback still arrives', async () => {
    const refused = refuseFirstAdd(api.context.callbackQueue);
    try {
      const sub = await submit({ n: 1 }, `${base}/hook/refused-once`);
      await waitFor(() => of('/hook/refused-once').length === 1);
      expect(refused.calls()).toBeGreaterThanOrEqual(2);
      await waitFor(async () => (await call(api.url, 'GET', `/jobs/${sub.body.id}`)).body.callback?.state === 'delivered');
      expect(JSON.parse(of('/hook/refused-once')[0].body)).toMatchObject({ id: sub.body.id, state: 'completed' });
    } finally {
      refused.restore();
    }
  });

  it('still announces a job another producer added when the batch that listed it is read again', async () => {
    const watch = await watchEvents(ctx);
    const refused = refuseFirstAdd(api.context.callbackQueue);
    const echo = new Queue('echo', { connection: ctx.redis, prefix: ctx.keys.prefixOf('echo') });
    try {
      // Both in one batch of the relay: a job of ours ending with a callback due, and a foreign job added.
      const stream = ctx.keys.events('echo');
      const follower = api.followers.all.find((f) => f.streams.includes(stream))!;
      const held = await holdFollower(ctx.redis, follower, () => ctx.redis.xadd(stream, '*', 'event', 'test-nudge'));
      let foreignId: string;
      try {
        const sub = await submit({ n: 8 }, `${base}/hook/batch-again`);
        await waitFor(async () =>
          ((await ctx.redis.xrange(stream, '-', '+')) as [string, string[]][]).some(([, f]) => f[1] === 'completed' && f.includes(sub.body.id)),
        );
        foreignId = (await echo.add('echo', { from: 'elsewhere' }, { delay: 60_000 })).id!;
      } finally {
        await held.release();
      }
      // The delivery was refused once, so the batch was handled twice; the job was announced all the same.
      await waitFor(() => of('/hook/batch-again').length === 1);
      expect(refused.calls()).toBeGreaterThanOrEqual(2);
      expect(await watch.next((e) => e.id === foreignId && e.event === 'submitted')).toMatchObject({ type: 'echo', state: 'delayed' });
    } finally {
      refused.restore();
      await echo.close();
      await watch.close();
    }
  });

  it('drops a job from the callbacks due once its callback is handed over, and makes it due again when retried by hand', async () => {
    const path = '/hook/retried-by-hand';
    // Each run fails after 1 s: the retry and the new run's end come in reads of their own.
    const { id, due, dueAtSubmit } = await failedOnceWithCallback(path, 1000);
    expect(dueAtSubmit).not.toBeNull();

    expect((await call(api.url, 'POST', `/jobs/${id}/retry`)).status).toBe(202);
    await waitFor(async () => (await ctx.redis.zscore(due, id)) !== null);
    await waitFor(() => of(path).length === 2);
    const [first, second] = of(path).map((d) => JSON.parse(d.body));
    expect(first).toMatchObject({ id, state: 'failed' });
    expect(second).toMatchObject({ id, state: 'failed' });
    expect(second.finishedAt).not.toBe(first.finishedAt);
    await waitFor(async () => (await ctx.redis.zscore(due, id)) === null);
  });

  it('calls back for a run retried by hand that ends in the same read as its retry, leaving nothing due', async () => {
    const watch = await watchEvents(ctx);
    const path = '/hook/retried-in-one-read';
    try {
      const { id, due } = await failedOnceWithCallback(path, 20);

      const stream = ctx.keys.events(ctx.keys.queueOf('sleep', id));
      const follower = api.followers.all.find((f) => f.streams.includes(stream))!;
      const held = await holdFollower(ctx.redis, follower, () => ctx.redis.xadd(stream, '*', 'event', 'test-nudge'));
      try {
        expect((await call(api.url, 'POST', `/jobs/${id}/retry`)).status).toBe(202);
        // The new run ends while the relay cannot read: its retry and its end come in one batch.
        await waitFor(
          async () => ((await ctx.redis.xrange(stream, '-', '+')) as [string, string[]][]).filter(([, f]) => f[1] === 'failed' && f.includes(id)).length === 2,
        );
      } finally {
        await held.release();
      }
      await waitFor(() => of(path).length === 2);
      expect(JSON.parse(of(path)[1].body)).toMatchObject({ id, state: 'failed' });
      // Published once the batch is handled: nothing was left due by it.
      await watch.next((e) => e.id === id && e.event === 'failed' && Date.parse(e.at) >= Date.parse(JSON.parse(of(path)[1].body).finishedAt) - 1000);
      expect(await ctx.redis.zscore(due, id)).toBeNull();
    } finally {
      await watch.close();
    }
  });

  it('sends no second callback when an operator removes the job after it ended', async () => {
    const watch = await watchEvents(ctx);
    try {
      const sub = await submit({ n: 7 }, `${base}/hook/removed-later`);
      await waitFor(async () => (await call(api.url, 'GET', `/jobs/${sub.body.id}`)).body.callback?.state === 'delivered');
      await api.context.queues.get('echo')!.remove(sub.body.id);
      // The relay has handled the removal: any delivery it queued for it is queued by now.
      await watch.next((e) => e.id === sub.body.id && e.event === 'cancelled');
      await waitFor(async () => {
        const counts = await api.context.callbackQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      });
      expect(of('/hook/removed-later')).toHaveLength(1);
      expect(JSON.parse(of('/hook/removed-later')[0].body)).toMatchObject({ id: sub.body.id, state: 'completed' });
    } finally {
      await watch.close();
    }
  });

  it('refuses a callback host outside CALLBACK_ALLOWED_HOSTS with 400, writing nothing', async () => {
    const before = (await ctx.allKeys()).length;
    const r = await submit({}, 'http://example.org/hook');
    expect(r.status).toBe(400);
    expect(r.body.error.details[0]).toMatchObject({ path: 'options.callbackUrl' });
    expect(r.body.error.details[0].message).toMatch(/CALLBACK_ALLOWED_HOSTS/);
    expect((await ctx.allKeys()).length).toBe(before);
  });

  it('refuses a callback URL with credentials in it with 400, without repeating them, writing nothing', async () => {
    const before = (await ctx.allKeys()).length;
    const r = await submit({}, `http://cb:Hunter2secret@${new URL(base).host}/hook`);
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([
      { path: 'options.callbackUrl', message: 'a URL with credentials (user:password@) is refused; a callback is signed with CALLBACK_SECRET instead' },
    ]);
    expect(JSON.stringify(r.body)).not.toContain('Hunter2secret');
    expect((await ctx.allKeys()).length).toBe(before);
  });

  it('refuses callbacks with 400 when no CALLBACK_SECRET is configured', async () => {
    const other = createTestContext();
    const bare = await startApi(other, {});
    try {
      const r = await call(bare.url, 'POST', '/jobs', { type: 'echo', data: {}, options: { callbackUrl: `${base}/x` } });
      expect(r.status).toBe(400);
      expect(r.body.error.details[0].message).toMatch(/CALLBACK_SECRET/);
    } finally {
      await bare.close();
      await other.cleanup();
    }
  });
});
