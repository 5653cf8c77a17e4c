import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
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
});
