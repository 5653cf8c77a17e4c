import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { holdFollower } from './follower-hold';
import { refuseFirstAdd } from './refuse-first-add';
import { createTestContext, waitFor } from './helpers';
import { readStream } from './sse-client';
import { startWorker, type RunningWorker } from './worker-harness';

// BullMQ keeps each queue's event stream to about 10,000 entries. An API process that falls
// behind a burst (a busy event loop, a slow relay) can find that what it had not read yet is
// gone, a job's ending entry with it. Here the API's reader is held back while the job ends,
// and the entries after it push that ending out of the stream, as a burst does.
const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker | undefined;
let receiver: http.Server;
let base: string;
const deliveries: { path: string; body: string }[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      deliveries.push({ path: req.url ?? '', body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  api = await startApi(ctx, { CALLBACK_SECRET: 'whsec_trimmed', CALLBACK_ALLOWED_HOSTS: new URL(base).host, CALLBACK_BACKOFF_MS: '50' });
});
afterAll(async () => {
  await worker?.close();
  await api.close();
  await new Promise((r) => receiver.close(r));
  await ctx.cleanup();
});

/**
 * Submits an echo job with a callback to `path`, and ends it while the API's reader is held
 * back, its ending entry then trimmed away unread. `meanwhile` runs once the job is submitted.
 */
async function endUnread(path: string, meanwhile: (id: string) => Promise<void> = async () => {}) {
  const sub = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { n: 7 }, options: { callbackUrl: `${base}${path}` } });
  expect(sub.status).toBe(202);
  const { id } = sub.body;
  await meanwhile(id);
  const stream = ctx.keys.events(ctx.keys.queueOf('echo', id));
  const follower = api.followers.all.find((f) => f.streams.includes(stream))!;
  const held = await holdFollower(ctx.redis, follower, () => ctx.redis.xadd(stream, '*', 'event', 'test-nudge'));
  const endingOf = async () => {
    const entries = (await ctx.redis.xrange(stream, '-', '+')) as [string, string[]][];
    return entries.find(([, f]) => f[1] === 'completed' && f.includes(id));
  };
  try {
    worker ??= await startWorker(ctx, { CALLBACK_SECRET: 'whsec_trimmed', CALLBACK_ALLOWED_HOSTS: new URL(base).host });
    await waitFor(endingOf);
    const burst = ctx.redis.pipeline();
    for (let i = 0; i < 300; i++) burst.xadd(stream, 'MAXLEN', 100, '*', 'event', 'test-burst');
    await burst.exec();
    expect(await endingOf()).toBeUndefined();
  } finally {
    // Even when a step above failed: a held follower blocks the API's reads for 30 s.
    await held.release();
  }
  return id;
}

describe('a job whose ending entries were trimmed before the API read them', () => {
  it('still answers its long-poll and its event stream, and still calls back', async () => {
    let poll!: Promise<Response>;
    let events!: ReturnType<typeof readStream>;
    const id = await endUnread('/hook/trimmed', async (id) => {
      // Unwoken, both would be answered only at the end of their wait: then the test fails rather than hangs.
      poll = fetch(`${api.url}/jobs/${id}/result?wait=30`, { signal: AbortSignal.timeout(25_000) });
      events = readStream(`${api.url}/jobs/${id}/events`, {}, AbortSignal.timeout(25_000));
      await waitFor(() => api.context.notifier.watcherCount() === 2);
    });

    const answered = await poll;
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ id, state: 'completed', result: { n: 7 } });
    const { events: got } = await events;
    expect(got.at(-1)?.data).toMatchObject({ id, state: 'completed' });
    await waitFor(() => deliveries.find((d) => d.path === '/hook/trimmed'));
    expect(JSON.parse(deliveries.find((d) => d.path === '/hook/trimmed')!.body)).toMatchObject({ id, state: 'completed', result: { n: 7 } });
  });

  it('still calls back when the sweep for such endings could not queue the delivery at first', async () => {
    // No worker until the API's reader is held, or the job would end before and be read as usual.
    await worker?.close();
    worker = undefined;
    const refused = refuseFirstAdd(api.context.callbackQueue);
    try {
      const id = await endUnread('/hook/trimmed-refused');
      await waitFor(() => deliveries.find((d) => d.path === '/hook/trimmed-refused'));
      expect(refused.calls()).toBeGreaterThanOrEqual(2);
      expect(JSON.parse(deliveries.find((d) => d.path === '/hook/trimmed-refused')!.body)).toMatchObject({ id, state: 'completed' });
    } finally {
      refused.restore();
    }
  });
});
