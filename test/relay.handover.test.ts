import { Queue } from 'bullmq';
import { parseEvent, type JobEvent } from '@async-jobs/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext, testRedis, waitFor, watchEvents } from './helpers';

/**
 * The relay of jobs:events is held by one process at a time and saves how far it got, so
 * a successor starts where its predecessor stopped: what happened while no relay ran is
 * published late, never skipped. Jobs from a plain BullMQ producer are used because the
 * relay announces each of them (`submitted`) with no worker needed.
 */
const ctx = createTestContext();
afterAll(() => ctx.cleanup());

describe('the event relay handed from one holder to the next', () => {
  it('publishes what happened while no relay ran, and goes on from there', async () => {
    const queue = new Queue('echo', { connection: ctx.redis, prefix: ctx.keys.bullPrefix });
    // A listener of the test's own, subscribed before any relay starts, so nothing published is missed.
    const sub = testRedis({ maxRetriesPerRequest: null });
    const heard: JobEvent[] = [];
    sub.on('message', (_c: string, raw: string) => {
      const e = parseEvent(raw);
      if (e) heard.push(e);
    });
    await sub.subscribe(ctx.keys.eventsChannel);
    const submitted = (id: string) => waitFor(() => heard.find((e) => e.id === id && e.event === 'submitted'), 15000);
    try {
      const first = await watchEvents(ctx);
      const a = (await queue.add('echo', { n: 1 })).id!;
      await submitted(a);
      // Several, so that the first holder's last batches are handled together and saved at the end.
      const more = await Promise.all([2, 3, 4].map(async (n) => (await queue.add('echo', { n })).id!));
      for (const id of more) await submitted(id);
      await first.close();

      const whileNone = (await queue.add('echo', { n: 5 })).id!;
      const second = await watchEvents(ctx);
      try {
        await submitted(whileNone);
        const after = (await queue.add('echo', { n: 6 })).id!;
        await submitted(after);
        // Each job announced, in the order of the stream.
        const order = heard.filter((e) => e.event === 'submitted').map((e) => e.id);
        expect([...new Set(order)]).toEqual([a, ...more, whileNone, after]);
      } finally {
        await second.close();
      }
    } finally {
      await queue.close();
      await sub.quit();
    }
  });
});
