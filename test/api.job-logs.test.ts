import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { call } from './api-harness';
import { testRedis } from './helpers';
import { useApi } from './system-harness';
import { startWorker, type RunningWorker } from './worker-harness';

/**
 * Job logs (docs/http-api.md "GET /jobs/{id}/logs"): what a handler writes with ctx.log is BullMQ's job.log,
 * read back by GET /jobs/:id/logs and by Bull Board. `echo` is served here by a handler
 * that logs each of `data.lines` (echo takes any object, so the API accepts such jobs);
 * `hash` is served by a plain BullMQ worker, which stands for a worker in another language.
 */
const sys = useApi();
const logLines: JobHandler = {
  name: 'echo',
  async run(data: { lines?: string[] }, ctx) {
    for (const line of data.lines ?? []) await ctx.log(line);
    return data;
  },
};
const connection = testRedis({ maxRetriesPerRequest: null });
let worker: RunningWorker;
let plain: Worker;

beforeAll(async () => {
  const handlers = (await import('../apps/worker/src/handlers/index')).handlers;
  const ours = new Map([...handlers].filter(([t]) => t !== 'hash'));
  ours.set('echo', logLines);
  worker = await startWorker(sys.ctx, { WORKER_TYPES: 'echo,sleep' }, ours);
  plain = new Worker(
    'hash',
    async (job) => {
      await job.log('from a plain BullMQ worker');
      await job.log('second line');
      return { digest: 'not really' };
    },
    { connection, prefix: sys.ctx.keys.prefixOf('hash') },
  );
  await plain.waitUntilReady();
});
afterAll(async () => {
  await plain?.close();
  await worker?.close();
  connection.disconnect();
});

const get = (path: string) => call(sys.api.url, 'GET', path);

async function runToEnd(type: string, data: unknown, options: object = {}) {
  const sub = await call(sys.api.url, 'POST', '/jobs?wait=20', { type, data, options });
  expect(sub.body.state, JSON.stringify(sub.body)).toBe('completed');
  return sub.body.id as string;
}

/** Every line, page by page with `limit`, and the number of pages it took. */
async function readAll(id: string, limit: number) {
  const lines: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await get(`/jobs/${id}/logs?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    lines.push(...r.body.logs.map((l: { message: string }) => l.message));
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor && pages < 1000);
  return { lines, pages };
}

const numbered = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `line ${from + i}`);

describe('GET /jobs/:id/logs', () => {
  it('returns what the handler logged, oldest first, page by page with a cursor', async () => {
    const id = await runToEnd('echo', { lines: numbered(25) });
    const first = await get(`/jobs/${id}/logs?limit=10`);
    expect(first.body.logs).toEqual(numbered(10).map((message) => ({ message })));
    expect(typeof first.body.nextCursor).toBe('string');
    const all = await readAll(id, 10);
    expect(all.lines).toEqual(numbered(25));
    // 10 + 10 + 5: the job has ended, so the page that reaches the end says nextCursor: null.
    expect(all.pages).toBe(3);
    expect((await get(`/jobs/${id}/logs`)).body).toEqual({ logs: numbered(25).map((message) => ({ message })), nextCursor: null });
  });

  it('gives the built-in sleep one line per progress report', async () => {
    const id = await runToEnd('sleep', { ms: 600 });
    const { lines } = await readAll(id, 100);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^slept \d+ of 600 ms \(\d+%\)$/);
    expect(lines.at(-1)).toBe('slept 600 of 600 ms (100%)');
    const percents = lines.map((l) => Number(/\((\d+)%\)/.exec(l)![1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('keeps the newest 1000 lines of a job', async () => {
    const id = await runToEnd('echo', { lines: numbered(1005) });
    const r = await get(`/jobs/${id}/logs?limit=1000`);
    expect(r.body.logs).toHaveLength(1000);
    expect(r.body.logs[0].message).toBe('line 6');
    expect(r.body.logs[999].message).toBe('line 1005');
    expect(r.body.nextCursor).toBeNull();
    expect(await sys.ctx.redis.llen(`${sys.ctx.keys.job('echo', id)}:logs`)).toBe(1000);
  });

  it('cuts a line over 2 KB to 2 KB and says so, and keeps a line of exactly 2 KB whole', async () => {
    const long = 'é'.repeat(3000); // 6000 bytes in UTF-8
    const exact = 'x'.repeat(2048);
    const id = await runToEnd('echo', { lines: [long, exact] });
    const [cut, whole] = (await get(`/jobs/${id}/logs`)).body.logs.map((l: { message: string }) => l.message);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(2048);
    expect(cut).toMatch(/^é+… \[truncated, 6000 bytes\]$/);
    expect(cut.length).toBeGreaterThan(1000);
    expect(whole).toBe(exact);
  });

  it('shows the lines of a job run by a plain BullMQ worker', async () => {
    const id = await runToEnd('hash', { text: 'abc' });
    expect((await readAll(id, 100)).lines).toEqual(['from a plain BullMQ worker', 'second line']);
  });

  it('shows the same lines in Bull Board', async () => {
    const id = await runToEnd('echo', { lines: ['one', 'two', 'three'] });
    const board = await get(`/admin/queues/api/queues/${encodeURIComponent(sys.ctx.keys.queueOf('echo', id))}/${id}/logs`);
    expect(board.status).toBe(200);
    expect(board.body).toEqual(['one', 'two', 'three']);
  });

  it('keeps a cursor right while the oldest lines are dropped under it, and tails a job that has not ended', async () => {
    // A delayed job does not run: its log is written here, as any BullMQ client can (Queue.addJobLog).
    const sub = await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data: {}, options: { delay: 600000 } });
    const id = sub.body.id as string;
    const queue = sys.api.context.queues.get(sys.ctx.keys.queueOf('echo', id))!;
    const write = async (lines: string[]) => {
      for (const l of lines) await queue.addJobLog(id, l, 1000);
    };
    await write(numbered(1000));
    const first = await get(`/jobs/${id}/logs?limit=400`);
    expect(first.body.logs.at(-1).message).toBe('line 400');
    // 300 more: lines 1-300 are dropped, and every line after the cursor moved 300 places.
    await write(numbered(300, 1001));
    const second = await get(`/jobs/${id}/logs?limit=1000&cursor=${first.body.nextCursor}`);
    expect(second.body.logs.map((l: { message: string }) => l.message)).toEqual(numbered(900, 401));
    // At the end of a job that has not ended: no line, but a cursor to ask again with.
    const idle = await get(`/jobs/${id}/logs?cursor=${second.body.nextCursor}`);
    expect(idle.body.logs).toEqual([]);
    expect(idle.body.nextCursor).toBe(second.body.nextCursor);
    await write(['line 1301']);
    const tail = await get(`/jobs/${id}/logs?cursor=${idle.body.nextCursor}`);
    expect(tail.body.logs).toEqual([{ message: 'line 1301' }]);
    // Every line the cursor had read was dropped: it starts again at the oldest kept.
    await write(numbered(1000, 2000));
    const lapped = await get(`/jobs/${id}/logs?limit=1&cursor=${tail.body.nextCursor}`);
    expect(lapped.body.logs).toEqual([{ message: 'line 2000' }]);
  });

  it('is removed with its job', async () => {
    const sub = await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data: {}, options: { delay: 600000 } });
    const id = sub.body.id as string;
    await sys.api.context.queues.get(sys.ctx.keys.queueOf('echo', id))!.addJobLog(id, 'a line', 1000);
    const logsKey = `${sys.ctx.keys.job('echo', id)}:logs`;
    expect(await sys.ctx.redis.exists(logsKey)).toBe(1);
    // A queued job's cancel is BullMQ's remove: the job's keys, its log among them, go.
    expect((await call(sys.api.url, 'DELETE', `/jobs/${id}`)).status).toBe(200);
    expect(await sys.ctx.redis.exists(logsKey)).toBe(0);
    const after = await get(`/jobs/${id}/logs`);
    expect(after.status).toBe(200);
    expect(after.body).toEqual({ logs: [], nextCursor: null });
  });

  it('answers 404 for a job never seen and 410 for an expired one', async () => {
    const none = await get('/jobs/no-such-job/logs');
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('not_found');
    const id = await runToEnd('echo', { lines: ['x'] });
    // Past its retention: BullMQ dropped it, and the tombstone says it was submitted long ago.
    await sys.ctx.redis.del(sys.ctx.keys.job('echo', id));
    await sys.ctx.redis.hset(sys.ctx.keys.tombstone('echo', id), 's', '1');
    const gone = await get(`/jobs/${id}/logs`);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('expired');
  });

  it('answers 400 for a cursor it did not give and a limit out of range', async () => {
    const id = await runToEnd('echo', { lines: ['x'] });
    for (const q of ['cursor=bogus', 'limit=0', 'limit=1001', 'limit=ten']) {
      const r = await get(`/jobs/${id}/logs?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
    }
  });
});
