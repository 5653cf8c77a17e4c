import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { jobResourceSchema } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../apps/api/src/jobs/idempotency';
import type { Submission } from '../apps/api/src/jobs/validate-submission';
import { call, startApi, untilEchoJobRemoved } from './api-harness';
import { createTestContext } from './helpers';
import { useApi } from './system-harness';
import { startWorker } from './worker-harness';

// No worker: jobs stay in the queue, so counting BullMQ's jobs counts what was enqueued.
const sys = useApi();
const { ctx } = sys;

const post = (body: unknown, headers: Record<string, string> = {}) => call(sys.api.url, 'POST', '/jobs', body, headers);

/** The jobs BullMQ holds for `type`, over every queue of it (each shard of a sharded type). */
async function queuedInBullmq(type: string): Promise<number> {
  let total = 0;
  for (const queue of sys.ctx.keys.queuesOf(type)) {
    const counts = await sys.api.context.queues.get(queue)!.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    total += Object.values(counts).reduce((a, b) => a + b, 0);
  }
  return total;
}

/** Jobs the API wrote: each has a tombstone of ours beside BullMQ's hash. */
async function recordCount(): Promise<number> {
  return (await ctx.allKeys()).filter((k) => k.endsWith(':tomb')).length;
}

/** A POST with `key` sent as two header lines (fetch would join them into one). */
function postWithTwoKeys(key: [string, string]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${sys.api.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ type: 'echo', data: { twice: true } }));
  });
}

describe('POST /jobs with an idempotency key', () => {
  it('refuses the header given twice with 400, enqueuing nothing, rather than joining the two into one key', async () => {
    const jobsBefore = await queuedInBullmq('echo');
    const r = await postWithTwoKeys(['a1', 'a2']);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details).toEqual([{ path: 'Idempotency-Key', message: 'Idempotency-Key is given 2 times; give it once' }]);
    expect(await queuedInBullmq('echo')).toBe(jobsBefore);
    // No key claimed for either line, nor for the two joined (the namespace itself may hold 'a1').
    for (const key of ['a1', 'a2', 'a1, a2', 'a1,a2']) expect(await ctx.redis.exists(ctx.keys.idempotency(key)), key).toBe(0);
  });

  it('replays the first job with 200 and Idempotent-Replayed, enqueuing nothing', async () => {
    const first = await post({ type: 'echo', data: { order: 42, items: [1, 2] } }, { 'Idempotency-Key': 'order-42' });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const jobsBefore = await queuedInBullmq('echo');
    const recordsBefore = await recordCount();

    // Same data with its keys in another order is the same request.
    const again = await post({ type: 'echo', data: { items: [1, 2], order: 42 } }, { 'Idempotency-Key': 'order-42' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(`/jobs/${first.body.id}`);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.state).toBe('queued');
    expect(await queuedInBullmq('echo')).toBe(jobsBefore);
    expect(await recordCount()).toBe(recordsBefore);
  });

  it('treats options.idempotencyKey like the header', async () => {
    const first = await post({ type: 'echo', data: { n: 1 }, options: { idempotencyKey: 'opt-1' } });
    expect(first.status).toBe(202);
    const viaHeader = await post({ type: 'echo', data: { n: 1 } }, { 'Idempotency-Key': 'opt-1' });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.id).toBe(first.body.id);
    const both = await post({ type: 'echo', data: { n: 1 }, options: { idempotencyKey: 'opt-1' } }, { 'Idempotency-Key': 'opt-1' });
    expect(both.status).toBe(200);
    expect(both.body.id).toBe(first.body.id);
  });

  it('answers 409 when the key is reused with other data or another type', async () => {
    const first = await post({ type: 'echo', data: { v: 1 } }, { 'Idempotency-Key': 'reused' });
    expect(first.status).toBe(202);
    const jobsBefore = await queuedInBullmq('echo');
    const otherData = await post({ type: 'echo', data: { v: 2 } }, { 'Idempotency-Key': 'reused' });
    expect(otherData.status).toBe(409);
    expect(otherData.body.error.code).toBe('conflict');
    const otherType = await post({ type: 'hash', data: { text: 'x' } }, { 'Idempotency-Key': 'reused' });
    expect(otherType.status).toBe(409);
    expect(await queuedInBullmq('echo')).toBe(jobsBefore);
    expect(await queuedInBullmq('hash')).toBe(0);
  });

  it('answers 400 when the header and the option disagree, and writes nothing', async () => {
    const keysBefore = (await ctx.allKeys()).sort();
    const r = await post({ type: 'echo', data: {}, options: { idempotencyKey: 'a' } }, { 'Idempotency-Key': 'b' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details[0].path).toBe('options.idempotencyKey');
    expect((await ctx.allKeys()).sort()).toEqual(keysBefore);
  });

  it('creates exactly one job when 20 requests with one key race', async () => {
    const jobsBefore = await queuedInBullmq('sleep');
    const recordsBefore = await recordCount();
    const body = { type: 'sleep', data: { ms: 5 } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(body, { 'Idempotency-Key': 'race' })));

    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(await queuedInBullmq('sleep')).toBe(jobsBefore + 1);
    expect(await recordCount()).toBe(recordsBefore + 1);
    const [id] = ids;
    expect((await call(sys.api.url, 'GET', `/jobs/${id}`)).body.state).toBe('queued');
  });

  it('keys any string safely and keeps keys apart', async () => {
    const weird = 'spaces and {braces}:*';
    const a = await post({ type: 'echo', data: { w: 1 } }, { 'Idempotency-Key': weird });
    const b = await post({ type: 'echo', data: { w: 1 } }, { 'Idempotency-Key': `${weird}2` });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('answers a repeat whose first request is still being written with a whole resource, submittedAt the claim time', async () => {
    // The first request's claim, as it stands between claiming the key and writing the job.
    const id = randomUUID();
    const claimedAt = Date.now() - 1500;
    const data = { slow: 'first' };
    const fp = fingerprint({ type: 'echo', input: data } as Submission);
    await ctx.redis.set(ctx.keys.idempotency('in-flight'), `${fp} ${id} ${claimedAt}`, 'EX', 60);

    const r = await post({ type: 'echo', data }, { 'Idempotency-Key': 'in-flight' });
    expect(r.status).toBe(200);
    expect(r.headers.get('idempotent-replayed')).toBe('true');
    expect(r.body.id).toBe(id);
    expect(r.body.state).toBe('queued');
    expect(r.body.submittedAt).toBe(new Date(claimedAt).toISOString());
    expect(jobResourceSchema.safeParse(r.body).error).toBeUndefined();
  });

  it('releases the key when the first enqueue fails, so that a retry with it creates the job', async () => {
    // The submit's first step fails once, as when the queue's connection is not up (every queue of the type: its shards too).
    const queues = ctx.keys.queuesOf('echo').map((name) => sys.api.context.queues.get(name)!);
    let calls = 0;
    for (const q of queues) {
      const waitUntilReady = q.waitUntilReady.bind(q);
      q.waitUntilReady = () => (calls++ === 0 ? Promise.reject(new Error('Connection is closed.')) : waitUntilReady());
    }
    try {
      const body = { type: 'echo', data: { fails: 'first' } };
      const failed = await post(body, { 'Idempotency-Key': 'enqueue-fails' });
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(calls).toBe(1);

      const retried = await post(body, { 'Idempotency-Key': 'enqueue-fails' });
      expect(retried.status).toBe(202);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      const read = await call(sys.api.url, 'GET', `/jobs/${retried.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body.state).toBe('queued');
    } finally {
      // The prototype's method again.
      for (const q of queues) delete (q as Partial<typeof q>).waitUntilReady;
    }
  });

  it('takes a header key of up to 255 characters and refuses a longer one with 400', async () => {
    const ok = await post({ type: 'echo', data: { long: 255 } }, { 'Idempotency-Key': 'k'.repeat(255) });
    expect(ok.status).toBe(202);
    const tooLong = await post({ type: 'echo', data: { long: 256 } }, { 'Idempotency-Key': 'k'.repeat(256) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('validation_failed');
    expect(tooLong.body.error.details[0].path).toBe('Idempotency-Key');
  });
});

describe('a repeat of an idempotent submit whose job has expired', () => {
  it('answers 410 expired rather than replaying a job that is gone', async () => {
    // Unsharded: BullMQ trims a queue's finished jobs when a later job of that queue finishes.
    const short = createTestContext({});
    const shortApi = await startApi(short, { RESULT_TTL_SECONDS: '1' });
    const shortWorker = await startWorker(short, { RESULT_TTL_SECONDS: '1' });
    try {
      const body = { type: 'echo', data: { expires: true } };
      const first = await call(shortApi.url, 'POST', '/jobs?wait=10', body, { 'Idempotency-Key': 'expires' });
      expect(first.body.state).toBe('completed');
      await untilEchoJobRemoved(shortApi, short, first.body.id);
      const repeat = await call(shortApi.url, 'POST', '/jobs', body, { 'Idempotency-Key': 'expires' });
      expect(repeat.status).toBe(410);
      expect(repeat.body.error.code).toBe('expired');
    } finally {
      await shortWorker.close();
      await shortApi.close();
      await short.cleanup();
    }
  });
});
