import { describe, expect, it, vi } from 'vitest';
import { call } from './api-harness';
import { readStream, type SseEvent } from './sse-client';
import { useSystem } from './system-harness';

/**
 * An EventSource reconnects with Last-Event-ID after every end of the stream: at the
 * terminal event it must be told to stop (204), and from the middle it must get what it
 * missed, once.
 */
const sys = useSystem();

const submit = async (type: string, data: unknown) => (await call(sys.api.url, 'POST', '/jobs', { type, data })).body.id as string;
const events = (id: string) => `${sys.api.url}/jobs/${id}/events`;
const summary = (list: SseEvent[]) => list.map((e) => ({ id: e.id, event: e.event }));

describe('GET /jobs/:id/events with Last-Event-ID', () => {
  it('answers 204, with no body, when the id is that of the terminal event', async () => {
    const id = await submit('echo', { x: 1 });
    const first = await readStream(events(id));
    expect(first.status).toBe(200);
    const terminal = first.events.at(-1)!;
    expect(terminal.event).toBe('completed');

    const again = await fetch(events(id), { headers: { accept: 'text/event-stream', 'last-event-id': terminal.id! } });
    expect(again.status).toBe(204);
    expect(await again.text()).toBe('');
  });

  it('sends exactly what came after an id from the middle of the stream', async () => {
    // Long enough to report progress several times while the stream is open.
    const id = await submit('sleep', { ms: 600 });
    const live = await readStream(events(id));
    expect(live.status).toBe(200);
    expect(live.events.at(-1)!.event).toBe('completed');
    const progress = live.events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);

    const from = progress[0];
    const after = live.events.slice(live.events.indexOf(from) + 1);
    const resumed = await readStream(events(id), { 'last-event-id': from.id! });
    expect(resumed.status).toBe(200);
    expect(summary(resumed.events)).toEqual(summary(after));
    expect(resumed.events.map((e) => e.data)).toEqual(after.map((e) => e.data));
  });
});

describe('GET /jobs/:id/events with a Last-Event-ID past the end of the stream', () => {
  it('starts afresh and ends with the job, as for no id, since the stream never sent that id', async () => {
    const id = await submit('sleep', { ms: 300 });
    // Aborted after 10 s: before the fix the stream waited for entries past the id and never ended.
    const resumed = await readStream(events(id), { 'last-event-id': '9999999999999-0' }, AbortSignal.timeout(10_000));
    expect(resumed.status).toBe(200);
    expect(resumed.events[0].event).toBe('state');
    expect(resumed.events[0].data).toMatchObject({ id });
    expect(resumed.events.at(-1)!.event).toBe('completed');
  });
});

describe('GET /jobs/:id/events with a Last-Event-ID from before what the stream still holds', () => {
  it("sends the current state first, as a new stream does, when the job's first entries were trimmed", async () => {
    const id = await submit('sleep', { ms: 300 });
    const live = await readStream(events(id));
    expect(live.events.at(-1)!.event).toBe('completed');
    // BullMQ trims from the head: the job's first entries go, its last stay.
    const stream = sys.ctx.keys.events(sys.ctx.keys.queueOf('sleep', id));
    await sys.ctx.redis.xtrim(stream, 'MAXLEN', 2);
    const resumed = await readStream(events(id), { 'last-event-id': '0-1' });
    expect(resumed.status).toBe(200);
    expect(resumed.events.map((e) => e.event)).toEqual(['state', 'completed']);
    expect(resumed.events[0].data).toMatchObject({ id, state: 'completed' });
    expect(resumed.events[1].data).toEqual(live.events.at(-1)!.data);
  });
});

describe('GET /jobs/:id/events of an ended job whose queue stream was emptied', () => {
  it('answers 204 to a reconnect with the id its terminal state came under, rather than sending it on every reconnect', async () => {
    const id = await submit('hash', { text: 'emptied' });
    expect((await readStream(events(id))).events.at(-1)!.event).toBe('completed');
    await sys.ctx.redis.del(sys.ctx.keys.events(sys.ctx.keys.queueOf('hash', id)));

    const fresh = await readStream(events(id));
    expect(fresh.events.map((e) => e.event)).toEqual(['state', 'completed']);
    expect(fresh.events[0].data).toMatchObject({ id, state: 'completed' });
    const again = await fetch(events(id), { headers: { accept: 'text/event-stream', 'last-event-id': fresh.events[1].id! } });
    expect(again.status).toBe(204);
  });
});

describe('GET /jobs/:id/events of a job BullMQ logs twice for one change', () => {
  it('sends a state once: a delayed job that starts is logged `waiting` then `active`', async () => {
    // The delay outlasts the stream's start, and the run outlasts the reads of its start, on a busy machine too.
    const r = await call(sys.api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 500 }, options: { delay: 1500 } });
    const { events: seen } = await readStream(events(r.body.id));
    const states = seen.filter((e) => e.event === 'state').map((e) => JSON.stringify(e.data));
    // `queued` may come between, when the `waiting` entry is read before a worker takes the job.
    expect(JSON.parse(states[0]).state).toBe('delayed');
    expect(JSON.parse(states.at(-1)!).state).toBe('active');
    for (let i = 1; i < states.length; i++) expect(states[i]).not.toBe(states[i - 1]);
    expect(seen.at(-1)!.event).toBe('completed');
  });
});

describe('GET /jobs/:id/events: many resumes of one queue at once', () => {
  it("serves them from reads they share, each with its own job's events and nothing else", async () => {
    const submitted = await call(sys.api.url, 'POST', '/jobs/batch', { jobs: Array.from({ length: 10 }, (_, i) => ({ type: 'echo', data: { i } })) });
    const ids = (submitted.body.jobs as { id: string }[]).map((j) => j.id);
    for (const id of ids) expect((await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=10`)).body.state).toBe('completed');
    const stream = sys.ctx.keys.events(sys.ctx.keys.queueOf('echo', ids[0]));
    const held = (await sys.ctx.redis.xrange(stream, '-', '+')) as [string, string[]][];
    const from = held[0][0];
    const entriesOf = (id: string) => held.filter(([, f]) => f[f.indexOf('jobId') + 1] === id).map(([entry]) => entry);

    // As after an API restart: every client reconnects at once, from an early id.
    const xrange = vi.spyOn(sys.api.context.redis, 'xrange');
    try {
      const resumed = await Promise.all(ids.map((id) => readStream(events(id), { 'last-event-id': from })));
      for (const [i, r] of resumed.entries()) {
        expect(r.status).toBe(200);
        expect(r.events.at(-1)).toMatchObject({ event: 'completed', data: { id: ids[i], result: { i } } });
        for (const e of r.events) expect(entriesOf(ids[i])).toContain(e.id);
      }
      // The stream's entries are read once between them (later reads bring only what is new, here
      // nothing); each resume reading the stream for itself read them all, ten times over.
      const replies = await Promise.all(xrange.mock.results.map((r) => r.value as Promise<unknown[]>));
      const entriesRead = replies.filter((_, k) => !xrange.mock.calls[k].includes('COUNT')).reduce((n, reply) => n + reply.length, 0);
      expect(entriesRead).toBeGreaterThan(0);
      expect(entriesRead).toBeLessThanOrEqual(held.length);
    } finally {
      xrange.mockRestore();
    }
  });
});
