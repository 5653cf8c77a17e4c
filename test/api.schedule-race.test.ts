import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, testRedis } from './helpers';

/*
 * The moment between a schedule read's look at BullMQ's scheduler and its look at the
 * scheduler's runs, made deterministic: the queue's getJobScheduler is wrapped so that, once
 * it has read the scheduler, a plain BullMQ worker takes the pending run (BullMQ then makes
 * the next one and moves the scheduler on) before the route goes on.
 */
const ctx = createTestContext();
const connection = testRedis({ maxRetriesPerRequest: null });
let api: RunningApi;
let manual: Worker;
const queueName = ctx.keys.queuesOf('echo')[0];

beforeAll(async () => {
  api = await startApi(ctx);
  // No processor: runs are taken by hand, exactly when the test says.
  manual = new Worker(queueName, null, { connection, prefix: ctx.keys.prefixOf(queueName) });
  await manual.waitUntilReady();
});
afterAll(async () => {
  await manual.close();
  connection.disconnect();
  await api.close();
  await ctx.cleanup();
});

const put = (name: string, body: unknown) => call(api.url, 'PUT', `/schedules/${name}`, body);
const slotOf = (id: string) => Number(id.split(':').pop());

/** Runs `meanwhile` right after the next read of scheduler `name` that finds it, before the route reads its runs. */
function afterSchedulerRead(name: string, meanwhile: () => Promise<void>) {
  const queue = api.context.queues.get(queueName)!;
  const original = queue.getJobScheduler.bind(queue);
  queue.getJobScheduler = async (id: string) => {
    const found = await original(id);
    if (id === name && found) {
      queue.getJobScheduler = original;
      await meanwhile();
    }
    return found;
  };
}

/** Takes the pending run of `name` the way any worker does; BullMQ makes its next run meanwhile. */
async function takeRun(name: string, token: string): Promise<string> {
  const job = await manual.getNextJob(token);
  expect(job?.repeatJobKey).toBe(name);
  return job!.id!;
}

describe('nextRunAt while a worker takes the run that was due', () => {
  it('PUT with every answers the time of the run the scheduler holds, not null, when a worker takes the first run meanwhile', async () => {
    let taken = '';
    afterSchedulerRead('tick', async () => {
      taken = await takeRun('tick', 'tok-1');
    });
    const r = await put('tick', { type: 'echo', data: { n: 1 }, every: 60_000 });
    expect(r.status).toBe(201);
    // The scheduler as the route read it: its next run is the one just taken, due at once.
    expect(r.body.nextRunAt).toBe(new Date(slotOf(taken)).toISOString());
    expect(r.body.recentJobs).toEqual([taken]);

    // Read again: the run BullMQ made when the first was taken, one period later.
    const read = await call(api.url, 'GET', '/schedules/tick');
    expect(read.status).toBe(200);
    expect(read.body.nextRunAt).toBe(new Date(slotOf(taken) + 60_000).toISOString());
    expect(read.body.recentJobs).toEqual([`repeat:tick:${slotOf(taken) + 60_000}`, taken]);
    expect((await call(api.url, 'DELETE', '/schedules/tick')).status).toBe(204);
  });

  it('GET answers the same when the run is taken between its two reads', async () => {
    expect((await put('tock', { type: 'echo', data: { n: 2 }, every: 60_000 })).status).toBe(201);
    let taken = '';
    afterSchedulerRead('tock', async () => {
      taken = await takeRun('tock', 'tok-2');
    });
    const r = await call(api.url, 'GET', '/schedules/tock');
    expect(r.status).toBe(200);
    expect(r.body.nextRunAt).toBe(new Date(slotOf(taken)).toISOString());
    const list = await call(api.url, 'GET', '/schedules');
    expect(list.body.schedules.find((s: { name: string }) => s.name === 'tock').nextRunAt).toBe(new Date(slotOf(taken) + 60_000).toISOString());
    expect((await call(api.url, 'DELETE', '/schedules/tock')).status).toBe(204);
  });

  it('is null once the run taken was the last of its limit, and not before', async () => {
    const created = await put('once', { type: 'echo', data: { n: 3 }, every: 60_000, limit: 1 });
    expect(created.status).toBe(201);
    // Its one run is pending: due now.
    const slot = slotOf(created.body.recentJobs[0]);
    expect(created.body.nextRunAt).toBe(new Date(slot).toISOString());
    let taken = '';
    afterSchedulerRead('once', async () => {
      taken = await takeRun('once', 'tok-3');
    });
    const r = await call(api.url, 'GET', '/schedules/once');
    expect(taken).toBe(`repeat:once:${slot}`);
    expect(r.body).toMatchObject({ limit: 1, nextRunAt: null, recentJobs: [taken] });
    expect((await call(api.url, 'GET', '/schedules/once')).body.nextRunAt).toBeNull();
    expect((await call(api.url, 'DELETE', '/schedules/once')).status).toBe(204);
  });

  it('counts the limit from the PUT that replaced the schedule, as BullMQ does, not from its first version', async () => {
    expect((await put('again', { type: 'echo', data: { n: 4 }, every: 60_000 })).status).toBe(201);
    await takeRun('again', 'tok-4');
    // BullMQ made a second run (its scheduler has made two); the replace drops it and makes run 1 of 2, in its slot.
    const replaced = await put('again', { type: 'echo', data: { n: 4 }, every: 60_000, limit: 2 });
    expect(replaced.status).toBe(200);
    const first = replaced.body.recentJobs[0] as string;
    expect(replaced.body.nextRunAt).toBe(new Date(slotOf(first)).toISOString());
    // Due in a minute: made due now, so that the worker can take it.
    await (await api.context.queues.get(queueName)!.getJob(first))!.promote();
    afterSchedulerRead('again', async () => {
      expect(await takeRun('again', 'tok-5')).toBe(first);
    });
    // Run 1 of 2 taken: a second comes.
    expect((await call(api.url, 'GET', '/schedules/again')).body.nextRunAt).toBe(new Date(slotOf(first)).toISOString());
    const second = await call(api.url, 'GET', '/schedules/again');
    expect(second.body.nextRunAt).toBe(new Date(slotOf(first) + 60_000).toISOString());
    expect((await call(api.url, 'DELETE', '/schedules/again')).status).toBe(204);
  });
});
