import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, waitFor } from './helpers';
import { useSystem } from './system-harness';
import { startWorker } from './worker-harness';

/**
 * Schedules are BullMQ job schedulers, one per name across the type queues; their runs are
 * ordinary jobs. An API and a worker run for the whole file, as in production.
 */
const sys = useSystem();
const url = () => sys.api.url;
/** The queue of a type's schedules: its first shard when it is sharded (QUEUE_SHARDS). */
const queue = (type: string) => sys.api.context.queues.get(sys.ctx.keys.queuesOf(type)[0])!;
const put = (name: string, body: unknown) => call(url(), 'PUT', `/schedules/${encodeURIComponent(name)}`, body);

// ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped once more.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;

/** Asserts that `body` is what the OpenAPI document says component `name` is. */
async function expectDocumented(name: string, body: unknown) {
  const doc = (await call(url(), 'GET', '/openapi.json')).body;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile({ components: doc.components, $ref: `#/components/schemas/${name}` });
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
}

/** Every run of schedule `name` that BullMQ holds, by its own records. */
async function runsInBullmq(type: string, name: string) {
  const jobs = await queue(type).getJobs(['completed', 'failed', 'active', 'wait', 'delayed', 'prioritized']);
  return jobs.filter((j) => j.repeatJobKey === name);
}

describe('PUT /schedules/:name rejects a bad request and writes nothing', () => {
  const future = new Date(Date.now() + 3600_000).toISOString();
  const cases: [string, string, unknown, string][] = [
    ['neither cron nor every', 'n1', { type: 'echo', data: {} }, 'cron'],
    ['both cron and every', 'n2', { type: 'echo', data: {}, cron: '* * * * *', every: 1000 }, 'every'],
    ['every below 1000 ms', 'n3', { type: 'echo', data: {}, every: 999 }, 'every'],
    ['a cron of 4 fields', 'n4', { type: 'echo', data: {}, cron: '* * * *' }, 'cron'],
    ['a cron BullMQ cannot parse', 'n5', { type: 'echo', data: {}, cron: '61 * * * *' }, 'cron'],
    ['a cron that never fires', 'n6', { type: 'echo', data: {}, cron: '0 0 30 2 *' }, 'cron'],
    ['a time zone that is not one', 'n7', { type: 'echo', data: {}, cron: '* * * * *', tz: 'Mars/Base' }, 'tz'],
    ['tz with every', 'n8', { type: 'echo', data: {}, every: 1000, tz: 'UTC' }, 'tz'],
    ['an endAt in the past', 'n9', { type: 'echo', data: {}, every: 1000, endAt: '2020-01-01T00:00:00Z' }, 'endAt'],
    ['an endAt before startAt', 'n10', { type: 'echo', data: {}, every: 1000, startAt: future, endAt: new Date(Date.now() + 60_000).toISOString() }, 'endAt'],
    ['a cron that first fires after endAt', 'n18', { type: 'echo', data: {}, cron: '0 0 1 1 *', endAt: future }, 'cron'],
    ['a limit of 0', 'n11', { type: 'echo', data: {}, every: 1000, limit: 0 }, 'limit'],
    ['data the type refuses', 'n12', { type: 'sleep', data: { ms: -1 }, every: 1000 }, 'data.ms'],
    ['options.delay', 'n13', { type: 'echo', data: {}, every: 1000, options: { delay: 5 } }, 'options.delay'],
    ['options.callbackUrl', 'n14', { type: 'echo', data: {}, every: 1000, options: { callbackUrl: 'https://example.org/x' } }, 'options.callbackUrl'],
    ['options.attempts out of bounds', 'n15', { type: 'echo', data: {}, every: 1000, options: { attempts: 0 } }, 'options.attempts'],
    ['a field it does not know', 'n16', { type: 'echo', data: {}, every: 1000, repeat: true }, '(root)'],
    ['a name with a colon', 'bad:name', { type: 'echo', data: {}, every: 1000 }, 'name'],
    ['a name of 101 characters', 'x'.repeat(101), { type: 'echo', data: {}, every: 1000 }, 'name'],
  ];

  for (const [what, name, body, path] of cases) {
    it(`answers 400 validation_failed for ${what}, naming ${path}`, async () => {
      const r = await put(name, body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
      expect(r.body.error.message).toMatch(/does not match the schema: \S/);
    });
  }

  it('says a problem once when a number fails two checks alike (beyond the safe integers and the bound)', async () => {
    const r = await put('n17', { type: 'echo', data: {}, every: 2 ** 60 });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toHaveLength(1);
    expect(r.body.error.details[0].path).toBe('every');
  });

  it('answers 400 unknown_type, listing the types, for a type that is not registered', async () => {
    const r = await put('n17', { type: 'nope', data: {}, every: 1000 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('unknown_type');
    expect(r.body.error.details[0].knownTypes).toContain('echo');
  });

  it('left no key in Redis and no scheduler in any queue', async () => {
    // The worker's own stalled-check keys come whatever the traffic.
    expect((await sys.ctx.requestKeys()).filter((k) => !k.endsWith(':stalled-check'))).toEqual([]);
    for (const q of sys.api.context.queues.values()) expect(await q.getJobSchedulersCount()).toBe(0);
  });
});

describe('create, replace, read, list, delete', () => {
  it('creates with 201 and Location, reads the schedule back from BullMQ, and replaces it with 200', async () => {
    const start = new Date(Date.now() + 3600_000);
    const created = await put('nightly', {
      type: 'hash',
      data: { text: 'abc' },
      cron: '0 3 * * *',
      tz: 'Europe/Paris',
      options: { attempts: 2, timeout: 5000 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('location')).toBe('/schedules/nightly');
    expect(created.body).toMatchObject({
      name: 'nightly',
      type: 'hash',
      data: { text: 'abc' },
      options: { attempts: 2, timeout: 5000, backoff: { type: 'exponential', delay: 1000 } },
      cron: '0 3 * * *',
      tz: 'Europe/Paris',
      startAt: null,
      endAt: null,
      limit: null,
      links: { self: '/schedules/nightly' },
    });
    expect(created.body.every).toBeUndefined();
    // 03:00 in Paris is 01:00 or 02:00 UTC, whatever the season.
    expect(new Date(created.body.nextRunAt).getUTCMinutes()).toBe(0);
    expect([1, 2]).toContain(new Date(created.body.nextRunAt).getUTCHours());
    // The pending run exists already, as a delayed job that says which schedule made it.
    expect(created.body.recentJobs).toHaveLength(1);
    const pending = await call(url(), 'GET', `/jobs/${encodeURIComponent(created.body.recentJobs[0])}`);
    expect(pending.body).toMatchObject({ type: 'hash', state: 'delayed', schedule: 'nightly', attempts: { made: 0, max: 2 } });

    // BullMQ holds it, in the queue of its type: the scheduler is the record.
    const held = await queue('hash').getJobScheduler('nightly');
    expect(held).toMatchObject({ key: 'nightly', pattern: '0 3 * * *', tz: 'Europe/Paris', template: { data: { text: 'abc' } } });

    const replaced = await put('nightly', { type: 'hash', data: { text: 'xyz' }, every: 7200_000, startAt: start.toISOString(), limit: 3 });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.headers.get('location')).toBeNull();
    expect(replaced.body).toMatchObject({
      data: { text: 'xyz' },
      every: 7200_000,
      tz: null,
      startAt: start.toISOString(),
      limit: 3,
      nextRunAt: start.toISOString(),
    });
    expect(replaced.body.cron).toBeUndefined();
    expect(replaced.body.options).toEqual({ attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
    // The old template's pending run is gone; one run is pending, of the new template.
    const runs = await runsInBullmq('hash', 'nightly');
    expect(runs.map((j) => j.data)).toEqual([{ text: 'xyz' }]);

    const read = await call(url(), 'GET', '/schedules/nightly');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(replaced.body);
    const list = await call(url(), 'GET', '/schedules');
    expect(list.status).toBe(200);
    expect(list.body.schedules).toContainEqual(replaced.body);
    await expectDocumented('Schedule', created.body);
    await expectDocumented('ScheduleList', list.body);

    const gone = await call(url(), 'DELETE', '/schedules/nightly');
    expect(gone.status).toBe(204);
    expect(await queue('hash').getJobScheduler('nightly')).toBeUndefined();
    expect(await runsInBullmq('hash', 'nightly')).toEqual([]);
    expect((await call(url(), 'GET', '/schedules/nightly')).status).toBe(404);
    const again = await call(url(), 'DELETE', '/schedules/nightly');
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_found');
  });

  it('lists schedules of types in different queue groups together (on a Cluster, on different nodes)', async () => {
    const later = new Date(Date.now() + 3600_000).toISOString();
    expect((await put('grouped-echo', { type: 'echo', data: {}, every: 60_000, startAt: later })).status).toBe(201);
    expect((await put('grouped-sleep', { type: 'sleep', data: { ms: 1 }, every: 60_000, startAt: later })).status).toBe(201);
    try {
      const list = await call(url(), 'GET', '/schedules');
      expect(list.status, JSON.stringify(list.body)).toBe(200);
      const names = list.body.schedules.map((s: { name: string }) => s.name);
      expect(names).toEqual(expect.arrayContaining(['grouped-echo', 'grouped-sleep']));
    } finally {
      for (const name of ['grouped-echo', 'grouped-sleep']) await call(url(), 'DELETE', `/schedules/${name}`);
    }
  });

  it('keeps a name unique across types: a PUT with another type moves it', async () => {
    const later = new Date(Date.now() + 3600_000).toISOString();
    expect((await put('moving', { type: 'echo', data: { a: 1 }, every: 60_000, startAt: later })).status).toBe(201);
    const moved = await put('moving', { type: 'sleep', data: { ms: 1 }, every: 60_000, startAt: later });
    expect(moved.status).toBe(200);
    expect(moved.body.type).toBe('sleep');
    expect(await queue('echo').getJobScheduler('moving')).toBeUndefined();
    expect(await runsInBullmq('echo', 'moving')).toEqual([]);
    expect(await queue('sleep').getJobScheduler('moving')).toMatchObject({ key: 'moving' });
    expect((await call(url(), 'DELETE', '/schedules/moving')).status).toBe(204);
  });

  it('leaves one scheduler per name when two API processes PUT it with different types at once', async () => {
    const other = await startApi(sys.ctx);
    try {
      const later = new Date(Date.now() + 3600_000).toISOString();
      for (let round = 0; round < 5; round++) {
        const replies = await Promise.all([
          put('raced', { type: 'echo', data: { round }, every: 60_000, startAt: later }),
          call(other.url, 'PUT', '/schedules/raced', { type: 'sleep', data: { ms: round }, every: 60_000, startAt: later }),
        ]);
        for (const r of replies) expect([200, 201], JSON.stringify(r.body)).toContain(r.status);
        const holders = await Promise.all(['echo', 'sleep'].map((t) => queue(t).getJobScheduler('raced')));
        expect(holders.filter(Boolean)).toHaveLength(1);
        const pending = [...(await runsInBullmq('echo', 'raced')), ...(await runsInBullmq('sleep', 'raced'))];
        expect(pending).toHaveLength(1);
      }
    } finally {
      await other.close();
    }
    expect((await call(url(), 'DELETE', '/schedules/raced')).status).toBe(204);
  });

  it('refuses to cancel a pending run on its own (409) and reads it cancelled once its schedule is deleted', async () => {
    const later = new Date(Date.now() + 3600_000).toISOString();
    const s = await put('held', { type: 'echo', data: { h: 1 }, every: 60_000, startAt: later });
    const id = s.body.recentJobs[0] as string;
    // Listed once the relay has seen BullMQ's `added` entry (and given the run its tombstone).
    await waitFor(async () => (await call(url(), 'GET', '/jobs?type=echo')).body.jobs.some((j: { id: string }) => j.id === id));
    const path = `/jobs/${encodeURIComponent(id)}`;
    const refused = await call(url(), 'DELETE', path);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/schedule "held"/);
    expect((await call(url(), 'GET', path)).body).toMatchObject({ state: 'delayed', schedule: 'held' });

    expect((await call(url(), 'DELETE', '/schedules/held')).status).toBe(204);
    const after = await call(url(), 'GET', path);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ state: 'cancelled', error: { name: 'RemovedError' } });
  });
});

describe('a schedule with every: 1000 and a worker running', () => {
  it('makes runs that are ordinary jobs of the schedule, never two for one slot, and stops making them once deleted', async () => {
    // A second worker and a second API: BullMQ's scheduler still makes one run per slot.
    const otherWorker = await startWorker(sys.ctx);
    const otherApi = await startApi(sys.ctx);
    onTestFinished(() => Promise.all([otherApi.close(), otherWorker.close()]).then(() => undefined));
    const made = await put('ticker', { type: 'echo', data: { tick: true }, every: 1000, options: { timeout: 4000, priority: 7 } });
    expect(made.status).toBe(201);

    // Three runs done, by the worker, one after another.
    const done = await waitFor(
      async () => {
        const runs = (await runsInBullmq('echo', 'ticker')).filter((j) => j.finishedOn);
        return runs.length >= 3 ? runs : null;
      },
      15000,
      100,
    );

    // One run per slot of the schedule (BullMQ names a run by its slot), one `every` apart at least.
    const slots = (await runsInBullmq('echo', 'ticker')).map((j) => Number(j.id!.split(':').pop())).sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i++) expect(slots[i] - slots[i - 1]).toBeGreaterThanOrEqual(1000);

    for (const job of done) {
      // The wire format of a submitted job (docs/wire-format.md).
      expect(job.name).toBe('echo');
      expect(job.data).toEqual({ tick: true });
      expect(job.opts).toMatchObject({ attempts: 3, priority: 7, asyncJobs: { timeoutMs: 4000 } });
      // Retention is the worker's (shared/queues.ts), kept out of each run's hash.
      expect(job.opts).not.toHaveProperty('removeOnComplete');
      expect(job.opts).not.toHaveProperty('removeOnFail');
      const read = await call(url(), 'GET', `/jobs/${encodeURIComponent(job.id!)}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: job.id, type: 'echo', state: 'completed', result: { tick: true }, schedule: 'ticker' });
      await expectDocumented('JobResource', read.body);
    }
    // Listed by GET /jobs, with `schedule`, once the relay has indexed them.
    const listed = await waitFor(async () => {
      const page = await call(url(), 'GET', '/jobs?type=echo&state=completed&limit=100');
      const ours = page.body.jobs.filter((j: { schedule?: string }) => j.schedule === 'ticker');
      return ours.length >= 3 ? ours : null;
    });
    expect(listed.map((j: { id: string }) => j.id)).toEqual(expect.arrayContaining(done.slice(0, 3).map((j) => j.id)));

    // The newest runs, newest first, from what BullMQ holds: with 3 done and one pending, at least 4.
    const slot = (id: string) => Number(id.split(':').pop());
    const read = await call(url(), 'GET', '/schedules/ticker');
    const recent = read.body.recentJobs as string[];
    expect(recent.length).toBeGreaterThanOrEqual(4);
    expect(recent.length).toBeLessThanOrEqual(5);
    expect(recent.map(slot)).toEqual(recent.map(slot).sort((a, b) => b - a));
    expect(slot(recent[0])).toBeGreaterThan(Math.max(...done.map((j) => slot(j.id!))));
    const held = new Set((await runsInBullmq('echo', 'ticker')).map((j) => j.id));
    for (const id of recent) expect(held.has(id), id).toBe(true);

    expect((await call(url(), 'DELETE', '/schedules/ticker')).status).toBe(204);
    // A run already queued may still be taken; after it nothing is pending, and no scheduler is left to make more.
    await waitFor(async () => (await runsInBullmq('echo', 'ticker')).every((j) => j.finishedOn), 10000, 100);
    const settled = (await runsInBullmq('echo', 'ticker')).map((j) => j.id).sort();
    await new Promise((r) => setTimeout(r, 2500));
    expect((await runsInBullmq('echo', 'ticker')).map((j) => j.id).sort()).toEqual(settled);
    expect(await queue('echo').getJobScheduler('ticker')).toBeUndefined();
  });
});

describe('a schedule with a limit', () => {
  it('makes that many runs and then none, and says that no run is next', async () => {
    expect((await put('twice', { type: 'echo', data: { n: 2 }, every: 1000, limit: 2 })).status).toBe(201);
    await waitFor(async () => (await runsInBullmq('echo', 'twice')).filter((j) => j.finishedOn).length >= 2, 10000, 100);
    const read = await waitFor(async () => {
      const r = await call(url(), 'GET', '/schedules/twice');
      return r.body.nextRunAt === null ? r : null;
    });
    expect(read.body).toMatchObject({ limit: 2, nextRunAt: null });
    expect(read.body.recentJobs).toHaveLength(2);
    // BullMQ's worker makes no third run: none is pending, and none comes.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await runsInBullmq('echo', 'twice')).toHaveLength(2);
    expect((await call(url(), 'DELETE', '/schedules/twice')).status).toBe(204);
  });
});

describe('a run past RESULT_TTL_SECONDS', () => {
  const short = createTestContext();
  let api: RunningApi;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  beforeAll(async () => {
    api = await startApi(short, { RESULT_TTL_SECONDS: '1' });
    worker = await startWorker(short, { RESULT_TTL_SECONDS: '1' });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await short.cleanup();
  });

  it('reads 410 expired, like a submitted job, not 404', async () => {
    expect((await call(api.url, 'PUT', '/schedules/brief', { type: 'echo', data: {}, every: 1000 })).status).toBe(201);
    const [echoQueue] = short.keys.queuesOf('echo');
    const echo = new Queue(echoQueue, { connection: short.redis, prefix: short.keys.prefixOf(echoQueue) });
    try {
      const first = await waitFor(async () => (await echo.getCompleted()).find((j) => j.repeatJobKey === 'brief'), 10000, 100);
      // BullMQ's retention by age drops it when a later run finishes.
      await waitFor(async () => (await short.redis.exists(short.keys.job('echo', first.id!))) === 0, 10000, 100);
      const gone = await call(api.url, 'GET', `/jobs/${encodeURIComponent(first.id!)}`);
      expect(gone.status).toBe(410);
      expect(gone.body.error.code).toBe('expired');
    } finally {
      await echo.close();
    }
    expect((await call(api.url, 'DELETE', '/schedules/brief')).status).toBe(204);
  });
});
