import { describe, expect, it } from 'vitest';
import { AsyncJobsError, createClient } from '../packages/client/src/index';
import { closedPort } from './closed-port';
import { startStubServer } from './stub-server';
import { useSystem } from './system-harness';

const sys = useSystem();
const client = () => createClient({ baseUrl: sys.api.url });

/** The AsyncJobsError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<AsyncJobsError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AsyncJobsError);
  return err as AsyncJobsError;
}

describe('client: submit and result', () => {
  it('submits a job and resolves with it once it has completed', async () => {
    const { job, replayed } = await client().submit('hash', { text: 'abc' });
    expect(job).toMatchObject({ type: 'hash', state: 'queued', links: { self: `/jobs/${job.id}` } });
    expect(replayed).toBe(false);
    const done = await client().result(job.id);
    expect(done).toMatchObject({
      id: job.id,
      state: 'completed',
      result: { digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    });
    expect(await client().get(job.id)).toEqual(done);
  });

  it('resolves with a failed job too (the outcome is in the job, not an exception)', async () => {
    const { job } = await client().submit('sleep', { ms: 60000 }, { timeout: 50, attempts: 1 });
    const done = await client().result(job.id);
    expect(done).toMatchObject({ state: 'failed', error: { name: 'TimeoutError' } });
  });

  it('gives up with code timeout when the job does not end in time, asking the server to hold no longer than that', async () => {
    const { job } = await client().submit('sleep', { ms: 1 }, { delay: 60000 });
    const waits: number[] = [];
    const watching = createClient({
      baseUrl: sys.api.url,
      fetch: (url, init) => {
        waits.push(Number(new URL(String(url)).searchParams.get('wait')));
        return fetch(url, init);
      },
    });
    const err = await failure(watching.result(job.id, { timeout: 300 }));
    expect(err).toMatchObject({ status: 0, code: 'timeout' });
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((w) => w > 0 && w <= 0.3)).toBe(true);
    await client().cancel(job.id);
    expect(await client().result(job.id)).toMatchObject({ state: 'cancelled' });
  });

  it('asks for at most 30 s per long-poll and asks again until the job is terminal', async () => {
    const asked: string[] = [];
    // Answers at once (202 twice, then 200); an early 202 is paced by its Retry-After, 0 here.
    const stub = await startStubServer((req, res) => {
      asked.push(req.url!);
      const state = asked.length < 3 ? 'active' : 'completed';
      res.writeHead(state === 'completed' ? 200 : 202, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ id: 'j/1', state }));
    });
    try {
      const done = await createClient({ baseUrl: `${stub.url}/prefix/` }).result('j/1');
      expect(done).toMatchObject({ state: 'completed' });
      expect(asked).toEqual(Array(3).fill('/prefix/jobs/j%2F1/result?wait=30'));
    } finally {
      await stub.close();
    }
  });

  it('asks again while the server is unavailable, up to maxRetries in a row', async () => {
    let calls = 0;
    // 503 twice (a server restarting, as the API answers while Redis is away), then the job.
    const stub = await startStubServer((_req, res) => {
      const up = ++calls > 2;
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify(up ? { id: 'j1', state: 'completed' } : { error: { code: 'unavailable', message: 'Redis is not reachable' } }));
    });
    try {
      expect(await createClient({ baseUrl: stub.url }).result('j1')).toMatchObject({ state: 'completed' });
      calls = 0;
      const err = await failure(createClient({ baseUrl: stub.url }).result('j1', { maxRetries: 1 }));
      expect(err).toMatchObject({ status: 503, code: 'unavailable', message: 'Redis is not reachable', retryAfter: 0 });
      expect(calls).toBe(2);
    } finally {
      await stub.close();
    }
  });

  it('replays an idempotent submit: the first job, replayed true, nothing new', async () => {
    const key = `order-${Date.now()}`;
    const first = await client().submit('echo', { order: 42 }, { idempotencyKey: key });
    const again = await client().submit('echo', { order: 42 }, { idempotencyKey: key });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.job.id).toBe(first.job.id);
    const other = await failure(client().submit('echo', { order: 43 }, { idempotencyKey: key }));
    expect(other).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('submits a batch in order, all or nothing', async () => {
    const jobs = await client().submitBatch([
      { type: 'echo', data: { n: 1 } },
      { type: 'sleep', data: { ms: 1 }, options: { priority: 1 } },
    ]);
    expect(jobs.map((j) => j.type)).toEqual(['echo', 'sleep']);
    const bad: Array<{ type: string; data: unknown }> = [
      { type: 'echo', data: {} },
      { type: 'sleep', data: { ms: -1 } },
    ];
    const err = await failure(client().submitBatch(bad));
    expect(err).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(err.details).toEqual([expect.objectContaining({ index: 1, path: 'jobs.1.data.ms' })]);
  });
});

describe('client: cancel, retry, list, types', () => {
  it('cancels a waiting job and refuses to cancel it twice', async () => {
    const { job } = await client().submit('sleep', { ms: 1 }, { delay: 60000 });
    expect(await client().cancel(job.id)).toMatchObject({ id: job.id, state: 'cancelled' });
    expect(await failure(client().cancel(job.id))).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('retries a failed job', async () => {
    const { job } = await client().submit('sleep', { ms: 60000 }, { timeout: 50, attempts: 1 });
    await client().result(job.id);
    expect(await client().retry(job.id)).toMatchObject({ id: job.id, state: 'queued' });
    expect(await client().result(job.id)).toMatchObject({ state: 'failed', attempts: { made: 2 } });
  });

  it('lists every matching job newest first, reading page after page', async () => {
    const text = `page-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client().submit('hash', { text: `${text}-${i}` }, { delay: 60000 })).job.id);
    const urls: string[] = [];
    const counting = createClient({
      baseUrl: sys.api.url,
      fetch: (url, init) => {
        urls.push(String(url));
        return fetch(url, init);
      },
    });
    const listed = [];
    for await (const job of counting.list({ type: 'hash', state: 'delayed', pageSize: 2 })) listed.push(job.id);
    expect(listed).toEqual([...ids].reverse());
    expect(urls).toHaveLength(3);
    expect(urls.slice(1).every((u) => new URL(u).searchParams.has('cursor'))).toBe(true);
    for (const id of ids) await client().cancel(id);
  });

  it('lists the job types with their input schemas', async () => {
    const types = await client().types();
    expect(types.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'sleep', 'hash', 'http.request']));
    expect(types.find((t) => t.name === 'sleep')!.input).toMatchObject({ type: 'object', required: ['ms'] });
  });
});

describe('client: errors', () => {
  it('rejects with AsyncJobsError not_found for a job that never existed', async () => {
    const err = await failure(client().get('no-such-job'));
    expect(err).toMatchObject({ name: 'AsyncJobsError', status: 404, code: 'not_found' });
    expect(err.message).toEqual(expect.any(String));
  });

  it("carries the server's details of a rejected submit", async () => {
    const type: string = 'sleep';
    const err = await failure(client().submit(type, { ms: 'soon' }));
    expect(err).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(err.details).toEqual([expect.objectContaining({ path: 'data.ms' })]);
  });

  it('sends the token as a bearer token', async () => {
    const seen: Array<string | null> = [];
    const withToken = createClient({
      baseUrl: sys.api.url,
      token: 's3cret',
      fetch: (url, init) => {
        seen.push(new Headers(init?.headers).get('authorization'));
        return fetch(url, init);
      },
    });
    await withToken.types();
    expect(seen).toEqual(['Bearer s3cret']);
  });

  it('rejects with code network_error when nothing answers', async () => {
    const err = await failure(createClient({ baseUrl: `http://127.0.0.1:${await closedPort()}` }).get('x'));
    expect(err).toMatchObject({ status: 0, code: 'network_error' });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('rejects with the abort reason when the signal aborts', async () => {
    const { job } = await client().submit('sleep', { ms: 1 }, { delay: 60000 });
    const controller = new AbortController();
    const pending = client().result(job.id, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await client().cancel(job.id);
  });
});
