import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

// The worker serves echo only: echo jobs complete, the others stay queued.
const ctx = createTestContext();
let api: RunningApi;
let worker: RunningWorker;

beforeAll(async () => {
  api = await startApi(ctx);
  worker = await startWorker(ctx, { WORKER_TYPES: 'echo' });
});
afterAll(async () => {
  await worker.close();
  await api.close();
  await ctx.cleanup();
});

async function submit(type: string, data: unknown): Promise<string> {
  const r = await call(api.url, 'POST', '/jobs', { type, data });
  expect(r.status).toBe(202);
  return r.body.id;
}

const list = (query: string) => call(api.url, 'GET', `/jobs${query}`);
const ids = (r: { body: { jobs: Array<{ id: string }> } }) => r.body.jobs.map((j) => j.id);

describe('GET /jobs', () => {
  it('pages newest first with a cursor that new submissions do not disturb', async () => {
    const first = [];
    for (let i = 0; i < 5; i++) first.push(await submit('hash', { text: `p${i}` }));
    const newestFirst = [...first].reverse();

    const page1 = await list('?type=hash&limit=2');
    expect(page1.status).toBe(200);
    expect(ids(page1)).toEqual(newestFirst.slice(0, 2));
    expect(page1.body.nextCursor).toEqual(expect.any(String));

    // Arrive between pages: they are newer than the cursor, so later pages neither repeat nor skip.
    const late = [await submit('hash', { text: 'late1' }), await submit('hash', { text: 'late2' })];

    const page2 = await list(`?type=hash&limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    expect(ids(page2)).toEqual(newestFirst.slice(2, 4));
    const page3 = await list(`?type=hash&limit=2&cursor=${encodeURIComponent(page2.body.nextCursor)}`);
    expect(ids(page3)).toEqual(newestFirst.slice(4));
    expect(page3.body.nextCursor).toBeNull();

    const fresh = await list('?type=hash&limit=100');
    expect(ids(fresh)).toEqual([...late.reverse(), ...newestFirst]);
    expect(fresh.body.nextCursor).toBeNull();
  });

  it('lists every type newest first and filters by type and state', async () => {
    const echoId = await submit('echo', { e: 1 });
    const sleepId = await submit('sleep', { ms: 1 });
    await call(api.url, 'GET', `/jobs/${echoId}/result?wait=20`);

    const all = await list('?limit=2');
    expect(ids(all)).toEqual([sleepId, echoId]);
    expect(all.body.jobs[0]).toMatchObject({ type: 'sleep', state: 'queued', links: { self: `/jobs/${sleepId}` } });

    const echoes = await list('?type=echo');
    expect(ids(echoes)).toEqual([echoId]);
    const completed = await list('?state=completed');
    expect(ids(completed)).toEqual([echoId]);
    const queuedSleeps = await list('?type=sleep&state=queued');
    expect(ids(queuedSleeps)).toEqual([sleepId]);
    expect(ids(await list('?type=sleep&state=completed'))).toEqual([]);
  });

  it('pages every type together newest first, each job once, from the indexes of each type', async () => {
    const before = (await list('?limit=1')).body.jobs[0]?.id as string | undefined;
    const mine: string[] = [];
    for (const [i, type] of ['hash', 'sleep', 'hash', 'collect', 'sleep', 'hash'].entries()) {
      mine.push(await submit(type, type === 'sleep' ? { ms: 1 } : type === 'collect' ? {} : { text: `m${i}` }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...ids(page));
      cursor = page.body.nextCursor;
    } while (cursor && !seen.includes(before ?? ''));
    // Newest first across the types, none repeated or skipped, then what was there before.
    expect(seen.slice(0, mine.length)).toEqual([...mine].reverse());
    if (before) expect(seen[mine.length]).toBe(before);
    expect(new Set(seen).size).toBe(seen.length);
    // One entry per job, in its type's index; no index of every job besides.
    const group = ctx.keys.layout.groupsOf(['collect'])[0];
    const collects = await ctx.redis.zrange(ctx.keys.typeIndex(group, 'collect'), 0, -1);
    expect(collects.filter((m) => m.endsWith(`:${mine[3]}`))).toHaveLength(1);
    expect(await ctx.redis.exists(`${group.prefix}:~idx:all`)).toBe(0);
  });

  it('skips jobs whose record has expired and drops them from the index', async () => {
    const gone = await submit('hash', { text: 'gone' });
    const kept = await submit('hash', { text: 'kept' });
    // Expired: BullMQ's retention dropped the job, and then its tombstone lapsed too.
    await ctx.redis.del(ctx.keys.job('hash', gone), ctx.keys.tombstone('hash', gone));
    const r = await list('?type=hash&limit=2');
    expect(ids(r)).toContain(kept);
    expect(ids(r)).not.toContain(gone);
    const members = await ctx.redis.zrange(ctx.keys.typeIndex(ctx.keys.layout.groupsOf(['hash'])[0], 'hash'), '0', '-1');
    expect(members.some((m) => m.endsWith(`:${gone}`))).toBe(false);
  });

  it('finds matches of a state filter behind many other jobs, with bounded work per request', async () => {
    const echoId = await submit('echo', { behind: true });
    await call(api.url, 'GET', `/jobs/${echoId}/result?wait=20`);
    const sleeps = Array.from({ length: 1000 }, (_, i) => ({ type: 'sleep', data: { ms: i } }));
    expect((await call(api.url, 'POST', '/jobs/batch', { jobs: sleeps })).status).toBe(202);
    expect((await call(api.url, 'POST', '/jobs/batch', { jobs: sleeps.slice(0, 100) })).status).toBe(202);

    // 1100 newer queued jobs: the first request gives up after its scan budget, with a cursor to go on.
    const first = await list('?state=completed&limit=1');
    expect(first.status).toBe(200);
    expect(first.body.jobs).toEqual([]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const next = await list(`?state=completed&limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(ids(next)).toEqual([echoId]);
  });

  it('answers 400 with the path of a bad query value', async () => {
    for (const [query, path] of [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=ten', 'limit'],
      ['?state=sleeping', 'state'],
      ['?cursor=not-a-cursor', 'cursor'],
    ]) {
      const r = await list(query);
      expect(r.status, query).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
      expect(r.body.error.details[0].path).toBe(path);
    }
  });

  it('answers 400 unknown_type for a type filter naming no registered type, rather than an empty page', async () => {
    const r = await list('?type=hsah');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'unknown_type', message: 'unknown job type "hsah"' });
    expect(r.body.error.details[0]).toMatchObject({ path: 'type', knownTypes: expect.arrayContaining(['hash', 'echo']) });
  });

  it('defaults to 20 per page', async () => {
    for (let i = 0; i < 21; i++) await submit('sleep', { ms: i });
    const r = await list('');
    expect(r.body.jobs).toHaveLength(20);
    expect(r.body.nextCursor).toEqual(expect.any(String));
  });
});
