import { afterEach, describe, expect, it } from 'vitest';
import { AsyncJobsError, createClient, type JobEvent } from '../packages/client/src/index';
import { startDropProxy, type DropProxy } from './drop-proxy';
import { waitFor } from './helpers';
import { startStubServer } from './stub-server';
import { useSystem } from './system-harness';

const sys = useSystem();
const client = () => createClient({ baseUrl: sys.api.url });

let proxy: DropProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function collect(events: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  const seen: JobEvent[] = [];
  for await (const e of events) seen.push(e);
  return seen;
}

describe('client.events', () => {
  it('follows a job from its current state to its terminal event, then ends', async () => {
    const { job } = await client().submit('sleep', { ms: 600 });
    const events = await collect(client().events(job.id));
    expect(events[0]).toMatchObject({ event: 'state', data: { id: job.id } });
    expect(events.map((e) => e.event)).toContain('progress');
    expect(events.filter((e) => e.event === 'completed')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ event: 'completed', data: { id: job.id, state: 'completed', result: { sleptMs: 600 } } });
    expect(events.every((e) => typeof e.id === 'string' && e.id !== '')).toBe(true);
  });

  it('resumes with Last-Event-ID after the connection drops, and still ends at the terminal event without duplicates', async () => {
    proxy = await startDropProxy(sys.api.url);
    const { job } = await client().submit('sleep', { ms: 1500 });
    const events = await collect(createClient({ baseUrl: proxy.url }).events(job.id));

    expect(proxy.cuts).toBe(1);
    const asked = proxy.requests.filter((r) => r.line.startsWith(`GET /jobs/${job.id}/events `));
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(asked[0].headers['last-event-id']).toBeUndefined();
    // The first connection was cut after its first event(s): the second asks for what came after them.
    const resumedAfter = events.findIndex((e) => e.id === asked[1].headers['last-event-id']);
    expect(resumedAfter).toBeGreaterThanOrEqual(0);
    expect(resumedAfter).toBeLessThan(events.length - 1);

    expect(events.at(-1)).toMatchObject({ event: 'completed', data: { state: 'completed', result: { sleptMs: 1500 } } });
    expect(events.filter((e) => e.event === 'completed')).toHaveLength(1);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.progress as number);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBe(progress.length);
  });

  it('ends at once when resumed after a terminal event the server sends again', async () => {
    const { job } = await client().submit('echo', { late: true });
    const all = await collect(client().events(job.id));
    const terminal = all.at(-1)!;
    expect(terminal.event).toBe('completed');
    const again = await collect(client().events(job.id, { lastEventId: terminal.id }));
    // Today's server repeats the terminal event; the contract allows a 204 instead (nothing).
    expect(again.length).toBeLessThanOrEqual(1);
    for (const e of again) expect(e).toMatchObject({ event: 'completed', data: { id: job.id } });
  });

  it('ends without an event when a resume is answered 204', async () => {
    const asked: Array<string | undefined> = [];
    const stub = await startStubServer((req, res) => {
      asked.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(204).end();
    });
    try {
      expect(await collect(createClient({ baseUrl: stub.url }).events('j1', { lastEventId: '1718000000000-3' }))).toEqual([]);
      expect(asked).toEqual(['1718000000000-3']);
    } finally {
      await stub.close();
    }
  });

  it('closes the stream when the loop is left early', async () => {
    proxy = await startDropProxy(sys.api.url, 0);
    const { job } = await client().submit('sleep', { ms: 60000 }, { delay: 60000 });
    for await (const e of createClient({ baseUrl: proxy.url }).events(job.id)) {
      expect(e).toMatchObject({ event: 'state', data: { state: 'delayed' } });
      break;
    }
    await waitFor(() => proxy!.open() === 0);
    await client().cancel(job.id);
  });

  it('rejects with AsyncJobsError not_found for a job that never existed', async () => {
    const err = await collect(client().events('no-such-job')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AsyncJobsError);
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
  });
});
