import { describe, expect, it } from 'vitest';
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
