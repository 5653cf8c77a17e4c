import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { waitFor } from './helpers';
import { useSystem } from './system-harness';

/** `POST /jobs?wait=S`: one round trip for a caller that wants the result. */
const sys = useSystem();

describe('POST /jobs?wait=S', () => {
  it('refuses a wait over 30 s with 400, writing nothing', async () => {
    // The relay's own bookkeeping (its lease) comes and goes on its own schedule: not a write of the request.
    const keys = async () => (await sys.ctx.allKeys()).filter((k) => !k.includes(':~relay:')).sort();
    const before = await keys();
    const r = await call(sys.api.url, 'POST', '/jobs?wait=31', { type: 'sleep', data: { ms: 1 } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain('wait');
    expect(await keys()).toEqual(before);
    expect((await call(sys.api.url, 'GET', '/jobs?type=sleep')).body.jobs).toEqual([]);
  });

  it('holds nothing for a client that went away while its submit was being written', async () => {
    // Gone during the submit's round trip to Redis, before the wait began: the response's
    // close had come and gone by then. Delayed jobs, so that no ending frees the waiters.
    const body = JSON.stringify({ type: 'echo', data: { gone: true }, options: { delay: 60000 } });
    const { hostname, port } = new URL(sys.api.url);
    const request = `POST /jobs?wait=30 HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const gone = Array.from({ length: 40 }, (_, i) => {
      return new Promise<void>((resolve) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(request);
          setTimeout(() => socket.destroy(), i % 4);
        });
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });
    });
    await Promise.all(gone);
    // Every submit that got as far as writing its job is listed: its wait began before that
    // (the watch comes first), so a wait left held shows in the count below.
    let listed = -1;
    const submitted = await waitFor(async () => {
      const n = ((await call(sys.api.url, 'GET', '/jobs?type=echo&state=delayed&limit=100')).body.jobs as unknown[]).length;
      const settled = n > 0 && n === listed;
      listed = n;
      return settled ? n : null;
    });
    expect(submitted).toBeGreaterThan(0);
    // Each wait ends within moments of its client's going, not 30 s later.
    await waitFor(() => sys.api.context.notifier.watcherCount() === 0, 3000);
    // Cancelled, so that the tests after this one find only their own delayed jobs.
    for (const job of (await call(sys.api.url, 'GET', '/jobs?type=echo&state=delayed&limit=100')).body.jobs as { id: string }[]) {
      expect((await call(sys.api.url, 'DELETE', `/jobs/${encodeURIComponent(job.id)}`)).status).toBe(200);
    }
  });

  it('answers 200 with the terminal job when it ends within the wait', async () => {
    const r = await call(sys.api.url, 'POST', '/jobs?wait=5', { type: 'sleep', data: { ms: 200 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ type: 'sleep', state: 'completed', result: { sleptMs: 200 }, error: null });
    expect(r.headers.get('location')).toBe(`/jobs/${r.body.id}`);
    expect((await call(sys.api.url, 'GET', `/jobs/${r.body.id}`)).body).toMatchObject({ state: 'completed', result: { sleptMs: 200 } });
  });

  it('answers 202 with the job as it is when the wait passes first', async () => {
    const r = await call(sys.api.url, 'POST', '/jobs?wait=1', { type: 'sleep', data: { ms: 3000 } });
    expect(r.status).toBe(202);
    expect(['queued', 'active']).toContain(r.body.state);
    expect(r.body.result).toBeNull();
    expect(r.headers.get('location')).toBe(`/jobs/${r.body.id}`);
    expect(sys.api.context.notifier.watcherCount()).toBe(0);
    // Not left running past the file: cancelled, it ends at once.
    expect([200, 202]).toContain((await call(sys.api.url, 'DELETE', `/jobs/${r.body.id}`)).status);
    const ended = await call(sys.api.url, 'GET', `/jobs/${r.body.id}/result?wait=10`);
    expect(ended.body.state).toBe('cancelled');
  });

  it('does not read a held job behind the stream reads before it starts, and still answers when it ends', async () => {
    const store = sys.api.context.store;
    const peek = store.peek;
    const peeked = new Map<string, number>();
    store.peek = (id, type) => {
      peeked.set(id, (peeked.get(id) ?? 0) + 1);
      return peek.call(store, id, type);
    };
    try {
      // Delayed, so that it waits while other jobs' entries wake the reads.
      const held = call(sys.api.url, 'POST', '/jobs?wait=20', { type: 'sleep', data: { ms: 1 }, options: { delay: 60000 } });
      const id = await heldDelayedJob('sleep');
      for (let i = 0; i < 3; i++) {
        const other = await call(sys.api.url, 'POST', '/jobs?wait=10', { type: 'sleep', data: { ms: 1 } });
        expect(other.body.state).toBe('completed');
      }
      expect(peeked.get(id) ?? 0).toBe(0);
      await (await sys.api.context.queues.get(sys.ctx.keys.queueOf('sleep', id))!.getJob(id))!.promote();
      const r = await held;
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id, state: 'completed', result: { sleptMs: 1 } });
    } finally {
      store.peek = peek;
    }
  });

  it('answers at once, cancelled, when an operator removes the job it holds for', async () => {
    const held = call(sys.api.url, 'POST', '/jobs?wait=20', { type: 'echo', data: { removed: true }, options: { delay: 60000 } });
    const id = await heldDelayedJob('echo');
    await sys.api.context.queues.get(sys.ctx.keys.queueOf('echo', id))!.remove(id);
    const r = await held;
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, state: 'cancelled', error: { name: 'RemovedError' } });
  });
});

/** The id of the one delayed job of `type` (a held POST /jobs?wait's), once its request waits on it. */
async function heldDelayedJob(type: string): Promise<string> {
  let id: string | undefined;
  await waitFor(async () => {
    id = (await call(sys.api.url, 'GET', `/jobs?type=${type}&state=delayed`)).body.jobs[0]?.id;
    return id !== undefined && sys.api.context.notifier.watcherCount('poll') === 1;
  });
  return id!;
}
