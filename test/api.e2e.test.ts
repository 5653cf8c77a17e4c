import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, waitFor } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker;
let target: http.Server;
let targetUrl: string;

beforeAll(async () => {
  target = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"pong":true}'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const { port } = target.address() as AddressInfo;
  targetUrl = `http://127.0.0.1:${port}/ping`;
  // The API refuses at submit what the worker would: both get the allowlist.
  const env = { HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}` };
  api = await startApi(ctx, env);
  worker = await startWorker(ctx, env);
});
afterAll(async () => {
  await worker.close();
  await api.close();
  await new Promise((r) => target.close(r));
  await ctx.cleanup();
});

async function runToEnd(type: string, data: unknown, options?: unknown) {
  const sub = await call(api.url, 'POST', '/jobs', { type, data, options });
  expect(sub.status).toBe(202);
  expect(sub.headers.get('location')).toBe(`/jobs/${sub.body.id}`);
  const done = await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`);
  expect(done.status).toBe(200);
  // The worker's writes never move the submission time the client was first told.
  expect(done.body.submittedAt).toBe(sub.body.submittedAt);
  return done.body;
}

describe('submit, then read the result', () => {
  it('echo returns its input', async () => {
    const job = await runToEnd('echo', { a: 1, nested: { b: [1, 2] } });
    expect(job).toMatchObject({ state: 'completed', result: { a: 1, nested: { b: [1, 2] } }, error: null });
    expect(job.attempts).toEqual({ made: 1, max: 3 });
    // It never reported progress; finished, it reads 100.
    expect(job.progress).toBe(100);
    expect(Date.parse(job.finishedAt)).toBeGreaterThanOrEqual(Date.parse(job.startedAt));
  });

  it('hash computes the digest the contract describes', async () => {
    const one = createHash('sha256').update('abc').digest();
    const two = createHash('sha256').update(one).digest('hex');
    expect((await runToEnd('hash', { text: 'abc' })).result).toEqual({ digest: one.toString('hex') });
    expect((await runToEnd('hash', { text: 'abc', rounds: 2 })).result).toEqual({ digest: two });
    const md5 = createHash('md5').update('abc').digest('hex');
    expect((await runToEnd('hash', { text: 'abc', algorithm: 'md5' })).result).toEqual({ digest: md5 });
  });

  it('http.request calls an allowed host', async () => {
    const job = await runToEnd('http.request', { url: targetUrl });
    expect(job.result).toMatchObject({ status: 200, body: { pong: true } });
  });

  it('sleep reports progress that a client can see while it runs', async () => {
    const sub = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 1500 } });
    const seen = new Set<number>();
    await waitFor(
      async () => {
        const r = await call(api.url, 'GET', `/jobs/${sub.body.id}`);
        if (typeof r.body.progress === 'number') seen.add(r.body.progress);
        return r.body.state === 'completed';
      },
      20000,
      50,
    );
    const between = [...seen].filter((p) => p > 0 && p < 100);
    expect(between.length).toBeGreaterThan(0);
    const end = await call(api.url, 'GET', `/jobs/${sub.body.id}/result`);
    expect(end.body.result).toEqual({ sleptMs: 1500 });
  });

  it('answers for a finished job that an operator removed from BullMQ: cancelled, by RemovedError, not 404', async () => {
    // BullMQ holds the result; once an operator removed the job within its TTL, what
    // remains (our tombstone) says why it is gone, and waiters and readers get a terminal answer.
    const job = await runToEnd('echo', { keep: 'me' });
    const queue = api.context.queues.get('echo')!;
    await queue.remove(job.id);
    expect(await queue.getJob(job.id)).toBeUndefined();
    const again = await call(api.url, 'GET', `/jobs/${job.id}/result`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: job.id, type: 'echo', state: 'cancelled', result: null, error: { name: 'RemovedError' } });
    expect(again.body.error.message).toEqual(expect.any(String));
    expect((await call(api.url, 'GET', `/jobs/${job.id}`)).body).toEqual(again.body);
  });

  it('answers 202 with Retry-After while the job is not finished', async () => {
    const sub = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 800 } });
    const r = await call(api.url, 'GET', `/jobs/${sub.body.id}/result`);
    expect(r.status).toBe(202);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(['queued', 'active']).toContain(r.body.state);
  });

  it('runs a delayed job only after its delay, reported as delayed meanwhile', async () => {
    const sub = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { d: 1 }, options: { delay: 600 } });
    expect(sub.body.state).toBe('delayed');
    const early = await call(api.url, 'GET', `/jobs/${sub.body.id}`);
    expect(early.body.state).toBe('delayed');
    const done = await call(api.url, 'GET', `/jobs/${sub.body.id}/result?wait=20`);
    expect(done.body.state).toBe('completed');
    expect(Date.parse(done.body.startedAt) - Date.parse(sub.body.submittedAt)).toBeGreaterThanOrEqual(590);
  });
});
