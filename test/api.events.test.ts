import { describe, expect, it } from 'vitest';
import { compareIds, STREAM_ID } from '../apps/api/src/events/streams';
import { call } from './api-harness';
import { countingLookups, waitFor } from './helpers';
import { readStream } from './sse-client';
import { useSystem } from './system-harness';

const sys = useSystem();

const submit = async (data: unknown, type = 'sleep') => (await call(sys.api.url, 'POST', '/jobs', { type, data })).body.id as string;

describe('GET /jobs/:id/events', () => {
  it('sends the current state first, then each change in order, and ends after the terminal event', async () => {
    const id = await submit({ ms: 800 });
    const { status, contentType, events } = await readStream(`${sys.api.url}/jobs/${id}/events`);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(events[0].event).toBe('state');
    expect(events[0].data.id).toBe(id);
    const names = events.map((e) => e.event);
    expect(names.at(-1)).toBe('completed');
    expect(names.filter((n) => n === 'completed')).toHaveLength(1);
    expect(names).toContain('progress');
    expect(events.at(-1)!.data).toMatchObject({ id, state: 'completed', result: { sleptMs: 800 } });
    // Every event has an id, a BullMQ stream id (opaque to clients, ordered here), and ids never go backwards.
    const ids = events.map((e) => e.id!);
    for (const id of ids) expect(id).toMatch(STREAM_ID);
    for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i], ids[i - 1])).toBeGreaterThanOrEqual(0);
  });

  it('sends a finished job its state and terminal event at once', async () => {
    const id = await submit({ x: 1 }, 'echo');
    await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=10`);
    const { events } = await readStream(`${sys.api.url}/jobs/${id}/events`);
    expect(events.map((e) => e.event)).toEqual(['state', 'completed']);
    expect(events[1].data.result).toEqual({ x: 1 });
  });

  it('resumes after Last-Event-ID with exactly the events that came after it', async () => {
    const id = await submit({ ms: 600 });
    const full = (await readStream(`${sys.api.url}/jobs/${id}/events`)).events;
    const live = full.slice(1); // after the initial snapshot, each event is one the log holds
    expect(live.length).toBeGreaterThanOrEqual(3);
    const cut = live[0];
    const resumed = (await readStream(`${sys.api.url}/jobs/${id}/events`, { 'last-event-id': cut.id! })).events;
    expect(resumed.map((e) => [e.id, e.event])).toEqual(live.slice(1).map((e) => [e.id, e.event]));
  });

  it('reads the job once, on entry: each change then comes with the job as the stream read found it', async () => {
    await countingLookups(sys.api.context.store, async (reads) => {
      // Held back until the stream is open, so that its waiting, active and completed changes all come live.
      const id = (await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data: { n: 7 }, options: { delay: 60000 } })).body.id as string;
      const stream = readStream(`${sys.api.url}/jobs/${id}/events`);
      await waitFor(() => sys.api.context.notifier.watcherCount('stream') === 1);
      // The stream read under way when the stream opened was sent before it asked for its job: another
      // job's run makes sure the reads since then have begun, so each of this job's changes is one of them.
      expect((await call(sys.api.url, 'POST', '/jobs?wait=10', { type: 'echo', data: {} })).status).toBe(200);
      await (await sys.api.context.queues.get(sys.ctx.keys.queueOf('echo', id))!.getJob(id))!.promote();
      const { events } = await stream;
      expect(events[0]).toMatchObject({ event: 'state', data: { id, state: 'delayed' } });
      expect(events.at(-1)).toMatchObject({ event: 'completed', data: { id, state: 'completed', result: { n: 7 } } });
      expect(reads.get(id)).toBe(1);
      expect(events.at(-1)!.data).toEqual((await call(sys.api.url, 'GET', `/jobs/${id}`)).body);
    });
  });

  it('answers 404 in the error format, not a stream, for an unknown job', async () => {
    const r = await call(sys.api.url, 'GET', '/jobs/7d1f0a00-0000-4000-8000-00000000abcd/events');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });

  it('frees its watcher when the client goes away', async () => {
    const id = await submit({ ms: 10000 });
    const abort = new AbortController();
    const res = await fetch(`${sys.api.url}/jobs/${id}/events`, { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    expect(sys.api.context.notifier.watcherCount()).toBeGreaterThanOrEqual(1);
    abort.abort();
    await waitFor(() => sys.api.context.notifier.watcherCount() === 0);
  });
});
