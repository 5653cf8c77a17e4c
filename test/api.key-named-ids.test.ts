import { describe, expect, it } from 'vitest';
import { call, useApi } from './api-harness';
import { createTestContext } from './helpers';

/*
 * A job id is the last part of its BullMQ key ("<prefix>:<queue>:<id>"), and the route's id
 * pattern allows ":". An id that names another key of the queue (its settings, its sets, its
 * event stream) or a key beside a job (its logs, our tombstone) must read as no job, and a
 * DELETE of it must change nothing.
 */
const ctx = createTestContext();
const api = useApi(ctx);

describe('ids that name BullMQ keys, not jobs', () => {
  it('read 404, and a DELETE leaves the queue as it was (paused, with its settings)', async () => {
    const sub = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { n: 1 }, options: { delay: 60_000 } });
    expect(sub.status).toBe(202);
    const job = await api.context.queues.get('echo')!.getJob(sub.body.id);
    await job!.log('a line, so that the job has a :logs list');
    expect((await call(api.url, 'POST', '/types/echo/pause')).status).toBe(200);
    const metaKey = `${ctx.keys.prefixOf('echo')}:echo:meta`;
    const settings = await ctx.redis.hgetall(metaKey);
    expect(settings.paused).toBe('1');
    const before = (await ctx.allKeys()).sort();

    const names = ['meta', 'events', 'delayed', 'completed', 'failed', 'id', 'marker', `${sub.body.id}:logs`, `${sub.body.id}:tomb`];
    for (const name of names) {
      for (const path of [`/jobs/${name}`, `/jobs/${name}/result`, `/jobs/${name}/events`, `/jobs/${name}/logs`]) {
        const r = await call(api.url, 'GET', path);
        expect({ path, status: r.status, code: r.body?.error?.code }).toEqual({ path, status: 404, code: 'not_found' });
      }
      const del = await call(api.url, 'DELETE', `/jobs/${name}`);
      expect({ name, status: del.status }).toEqual({ name, status: 404 });
    }

    expect(await ctx.redis.hgetall(metaKey)).toEqual(settings);
    expect((await ctx.allKeys()).sort()).toEqual(before);
    expect((await call(api.url, 'GET', '/types')).body.types.find((t: { name: string }) => t.name === 'echo')).toMatchObject({ paused: true });
    expect((await call(api.url, 'POST', '/types/echo/resume')).status).toBe(200);
  });
});
