import { Worker } from 'bullmq';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { call } from './api-harness';
import { testRedis } from './helpers';
import { useApi } from './system-harness';
import { startWorker } from './worker-harness';

/**
 * Retention is an option of our workers, not of each job (shared/queues.ts): a job's hash
 * stays in Redis's compact encoding, and a finished job is still dropped RESULT_TTL_SECONDS
 * after it ended, whichever worker finished it. Unsharded, so that every job of a type is
 * in the one queue whose finished set BullMQ trims.
 */
const sys = useApi({ RESULT_TTL_SECONDS: '1' }, {});
const connection = testRedis({ maxRetriesPerRequest: null });
afterAll(() => connection.disconnect());

const jobKey = (type: string, id: string) => sys.ctx.keys.job(type, id);
const exists = async (type: string, id: string) => (await sys.ctx.redis.exists(jobKey(type, id))) === 1;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submit(type: string, data: unknown, options: object = {}) {
  const r = await call(sys.api.url, 'POST', '/jobs', { type, data, options });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id as string;
}

async function finished(id: string, state: 'completed' | 'failed') {
  const r = await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=20`);
  expect(r.body.state, JSON.stringify(r.body)).toBe(state);
}

/** A BullMQ worker of someone else's, without retention of its own; runs until the test ends. */
async function plainWorker(type: string, run: () => unknown) {
  const queue = sys.ctx.keys.queueOf(type, '');
  const w = new Worker(queue, async () => run(), { connection, prefix: sys.ctx.keys.prefixOf(queue) });
  await w.waitUntilReady();
  return w;
}

async function ourWorker() {
  const w = await startWorker(sys.ctx, { RESULT_TTL_SECONDS: '1' });
  onTestFinished(() => w.close());
  return w;
}

describe('a finished job', () => {
  it('keeps its hash compact: its opts carry no retention and no log bound', async () => {
    await ourWorker();
    const id = await submit('echo', { hello: 'world' });
    await finished(id, 'completed');
    const opts = JSON.parse((await sys.ctx.redis.hget(jobKey('echo', id), 'opts')) ?? 'null');
    expect(opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
    for (const k of ['removeOnComplete', 'removeOnFail', 'keepLogs', 'kl']) expect(opts).not.toHaveProperty(k);
    // Every value within hash-max-listpack-value: Redis keeps the hash as one listpack
    // (a ziplist before Redis 7), not as a hashtable.
    const encoding = await sys.ctx.redis.call('OBJECT', 'ENCODING', jobKey('echo', id));
    expect(['listpack', 'ziplist']).toContain(encoding);
  });

  it('completed: is dropped RESULT_TTL_SECONDS after it ended once our worker completes a later one, also when a plain worker ran it', async () => {
    const plain = await plainWorker('echo', () => ({ servedBy: 'plain' }));
    const byPlain = await submit('echo', { n: 1 });
    await finished(byPlain, 'completed');
    await pause(1100);
    // A plain worker without retention trims nothing, even its own jobs past their age.
    await finished(await submit('echo', { n: 2 }), 'completed');
    expect(await exists('echo', byPlain)).toBe(true);
    await plain.close();

    await ourWorker();
    const byUs = await submit('echo', { n: 3 });
    await finished(byUs, 'completed');
    // BullMQ trims the whole completed set by age when our worker completes a job.
    expect(await exists('echo', byPlain)).toBe(false);
    const expired = await call(sys.api.url, 'GET', `/jobs/${byPlain}`);
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('expired');
    // Ours is kept until it is older than RESULT_TTL_SECONDS and another job completes.
    expect((await call(sys.api.url, 'GET', `/jobs/${byUs}`)).status).toBe(200);
    await pause(1100);
    await finished(await submit('echo', { n: 4 }), 'completed');
    expect(await exists('echo', byUs)).toBe(false);
    expect((await call(sys.api.url, 'GET', `/jobs/${byUs}`)).status).toBe(410);
  });

  it('failed: is dropped RESULT_TTL_SECONDS after it ended once our worker fails a later one, also when a plain worker failed it', async () => {
    const plain = await plainWorker('sleep', () => {
      throw new Error('plain worker refuses');
    });
    const byPlain = await submit('sleep', { ms: 10 }, { attempts: 1 });
    await finished(byPlain, 'failed');
    await plain.close();
    await pause(1100);

    await ourWorker();
    // Failed by its timeout on our worker.
    const byUs = await submit('sleep', { ms: 5000 }, { attempts: 1, timeout: 50 });
    await finished(byUs, 'failed');
    expect(await exists('sleep', byPlain)).toBe(false);
    expect((await call(sys.api.url, 'GET', `/jobs/${byPlain}`)).status).toBe(410);
    expect((await call(sys.api.url, 'GET', `/jobs/${byUs}`)).body.state).toBe('failed');
    await pause(1100);
    await finished(await submit('sleep', { ms: 5000 }, { attempts: 1, timeout: 50 }), 'failed');
    expect(await exists('sleep', byUs)).toBe(false);
    expect((await call(sys.api.url, 'GET', `/jobs/${byUs}`)).status).toBe(410);
  });
});
