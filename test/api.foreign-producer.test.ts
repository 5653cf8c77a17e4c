import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { watchEvents, waitFor, type EventWatch } from './helpers';
import { useApi } from './system-harness';

/**
 * A job that another BullMQ producer adds (any BullMQ client, in any language, or the
 * Board's "add") is a job like ours: read with its true options, listed, announced.
 */
const sys = useApi();
let watch: EventWatch;
beforeAll(async () => {
  watch = await watchEvents(sys.ctx);
});
afterAll(async () => {
  await watch.close();
});

describe('a job added by a plain BullMQ producer', () => {
  it('reads with its true attempts, is listed by GET /jobs, and is announced as submitted on jobs:events', async () => {
    // Nothing of ours: BullMQ's own id, the data as it is, no extras.
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.bullPrefix });
    let id: string;
    try {
      const added = await queue.add('echo', { from: 'elsewhere' }, { attempts: 4 });
      id = added.id!;
    } finally {
      await queue.close();
    }

    const read = await call(sys.api.url, 'GET', `/jobs/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, type: 'echo', state: 'queued', attempts: { made: 0, max: 4 }, error: null });

    const submitted = await watch.next((e) => e.id === id && e.event === 'submitted');
    expect(submitted).toMatchObject({ type: 'echo', state: 'queued' });

    // The relay lists it once it has seen BullMQ's `added` entry.
    const listed = await waitFor(async () => {
      const r = await call(sys.api.url, 'GET', '/jobs?type=echo');
      return r.body.jobs?.find((j: { id: string }) => j.id === id);
    });
    expect(listed).toMatchObject({ id, state: 'queued', attempts: { made: 0, max: 4 } });
    const all = await call(sys.api.url, 'GET', '/jobs?state=queued');
    expect(all.body.jobs.map((j: { id: string }) => j.id)).toContain(id);
  });

  it('reads cancelled with a RemovedError, and is announced so, once an operator removes it', async () => {
    const queue = new Queue('echo', { connection: sys.ctx.redis, prefix: sys.ctx.keys.prefixOf('echo') });
    try {
      const added = await queue.add('echo', { from: 'elsewhere' }, { attempts: 2, delay: 60_000 });
      const id = added.id!;
      // Once the relay has seen it (it is then listed), its removal is a job of ours being removed.
      await waitFor(async () => (await call(sys.api.url, 'GET', '/jobs?type=echo')).body.jobs?.some((j: { id: string }) => j.id === id));
      await queue.remove(id);

      const read = await call(sys.api.url, 'GET', `/jobs/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, type: 'echo', state: 'cancelled', attempts: { max: 2 }, error: { name: 'RemovedError' } });
      expect((await watch.next((e) => e.id === id && e.event === 'cancelled')).type).toBe('echo');
    } finally {
      await queue.close();
    }
  });
});
