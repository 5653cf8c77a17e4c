import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { verifyCallbackSignature } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { call } from './api-harness';
import { testRedis, watchEvents, waitFor, type EventWatch } from './helpers';
import { readStream } from './sse-client';
import { useApi } from './system-harness';
import { startWorker } from './worker-harness';

/**
 * A type served by a plain BullMQ Worker, with nothing of ours in the process and no
 * worker of ours serving that type: it stands for BullMQ's Python, Elixir and PHP workers.
 */
const SECRET = 'whsec_foreign_worker';
const deliveries: Array<{ path: string; signature: string; body: string }> = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    deliveries.push({ path: req.url ?? '', signature: String(req.headers.signature ?? ''), body });
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const sys = useApi({ CALLBACK_SECRET: SECRET, CALLBACK_ALLOWED_HOSTS: new URL(hooks).host, CALLBACK_BACKOFF_MS: '50' });
const connection = testRedis({ maxRetriesPerRequest: null });
let plain: Worker | undefined;
let watch: EventWatch;
beforeAll(async () => {
  watch = await watchEvents(sys.ctx);
});
afterAll(async () => {
  await plain?.close();
  await watch.close();
  connection.disconnect();
  await new Promise((r) => receiver.close(r));
});

/**
 * The whole "service": what a BullMQ worker in any language would do with an echo job, with
 * the retention docs/wire-format.md asks of it (jobs carry none of their own).
 */
async function startPlainWorker() {
  const age = sys.ctx.config().RESULT_TTL_SECONDS;
  plain ??= new Worker('echo', async (job) => ({ servedBy: 'plain', got: job.data }), {
    connection,
    prefix: sys.ctx.keys.prefixOf('echo'),
    removeOnComplete: { age },
    removeOnFail: { age },
  });
  await plain.waitUntilReady();
}

const submit = async (data: unknown, options: Record<string, unknown> = {}) => {
  const r = await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data, options });
  expect(r.status).toBe(202);
  return r.body.id as string;
};

describe('a type served by a plain BullMQ worker', () => {
  it('gives clients its result by poll, long-poll and SSE, and shows its lifecycle on jobs:events', async () => {
    const id = await submit({ n: 1 });
    const poll = call(sys.api.url, 'GET', `/jobs/${id}/result?wait=10`);
    const stream = readStream(`${sys.api.url}/jobs/${id}/events`);
    await waitFor(() => sys.api.context.notifier.watcherCount() >= 2);

    await startPlainWorker();
    const expected = { id, type: 'echo', state: 'completed', result: { servedBy: 'plain', got: { n: 1 } }, error: null };
    const held = await poll;
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject(expected);
    const sse = await stream;
    expect(sse.status).toBe(200);
    expect(sse.events.at(-1)).toMatchObject({ event: 'completed', data: expected });
    const read = await call(sys.api.url, 'GET', `/jobs/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ ...expected, attempts: { made: 1, max: 3 } });

    await watch.terminal(id);
    expect(watch.of(id).map((e) => e.event)).toEqual(['submitted', 'active', 'completed']);
    expect(watch.of(id).at(-1)).toMatchObject({ type: 'echo', state: 'completed' });
  });

  it('delivers the callbackUrl of a job it ran (a worker of ours, serving other types, sends it)', async () => {
    await startPlainWorker();
    // Deliveries go through the callbacks queue, which every worker process of ours serves,
    // whatever job types it runs; this one runs none of echo's.
    const ours = await startWorker(sys.ctx, {
      WORKER_TYPES: 'hash',
      CALLBACK_SECRET: SECRET,
      CALLBACK_ALLOWED_HOSTS: new URL(hooks).host,
      CALLBACK_BACKOFF_MS: '50',
    });
    onTestFinished(() => ours.close());
    const id = await submit({ n: 2 }, { callbackUrl: `${hooks}/hook/plain` });
    const delivered = await waitFor(() => deliveries.find((d) => d.path === '/hook/plain'));
    expect(verifyCallbackSignature(SECRET, delivered.signature, delivered.body)).toBe(true);
    expect(JSON.parse(delivered.body)).toMatchObject({ id, state: 'completed', result: { servedBy: 'plain', got: { n: 2 } } });
    await waitFor(async () => (await call(sys.api.url, 'GET', `/jobs/${id}`)).body.callback?.state === 'delivered');
  });

  it('reads a returnvalue that is not JSON (as a Python worker may store it) as that string, not a 500', async () => {
    await startPlainWorker();
    const id = await submit({ n: 3 });
    await waitFor(async () => (await call(sys.api.url, 'GET', `/jobs/${id}`)).body.state === 'completed');
    await sys.ctx.redis.hset(plain!.toKey(id), 'returnvalue', 'done: 3 rows');
    for (const path of [`/jobs/${id}`, `/jobs/${id}/result`]) {
      const r = await call(sys.api.url, 'GET', path);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id, state: 'completed', result: 'done: 3 rows' });
    }
  });
});
