import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compareIds } from '../../apps/api/src/events/streams';
import { call } from '../api-harness';
import { createTestContext, waitFor } from '../helpers';
import { startWorker, type RunningWorker } from '../worker-harness';
import { spawnApi, type ApiProcess } from './api-process';
import { writeFigures } from './figures';
import { freePort } from './redis-server';
import { followStream, type Followed } from './sse-follow';

const ctx = createTestContext();
let port: number;
let api: ApiProcess | undefined;
let worker: RunningWorker;
const figures = { injected: 0, accepted: 0, completed: 0, lost: 0 };

beforeAll(async () => {
  port = await freePort();
  worker = await startWorker(ctx, { WORKER_CONCURRENCY: '20', WORKER_TYPES: 'sleep' });
});

afterEach(async () => {
  // A test that failed half-way leaves its API running; the next one needs the port.
  api?.kill('SIGKILL');
  await api?.exited;
  api = undefined;
});

afterAll(async () => {
  await worker?.close();
  await ctx.cleanup();
  writeFigures('api-restart', { fault: 'API restarted (SIGTERM, then SIGKILL) under long-polls and event streams', ...figures });
});

async function startApi() {
  api = await spawnApi(ctx, { PORT: String(port), SHUTDOWN_GRACE_MS: '2000' });
  await api.listening;
  // Listening is not connected (a Redis Cluster takes a moment): clients would retry a 503 meanwhile.
  await waitFor(async () => (await call(api!.url, 'GET', '/readyz')).status === 200, 15000, 50);
  return api;
}

/** Held requests the API counts in its gauges: long-polls and event streams. */
async function held(): Promise<{ polls: number; streams: number }> {
  const text = (await call(api!.url, 'GET', '/metrics')).body as string;
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { polls: gauge('asyncjobs_longpoll_waiters'), streams: gauge('asyncjobs_sse_streams') };
}

interface PollOutcome {
  status: number | 'broken';
}

async function longPoll(id: string): Promise<PollOutcome> {
  try {
    const r = await call(`http://127.0.0.1:${port}`, 'GET', `/jobs/${id}/result?wait=30`);
    return { status: r.status };
  } catch {
    return { status: 'broken' };
  }
}

const terminal = (e: { event: string }) => ['completed', 'failed', 'cancelled'].includes(e.event);

describe.each(['SIGTERM', 'SIGKILL'] as const)('the API stopped with %s while clients wait', (signal) => {
  it('ends their long-polls and streams cleanly or visibly, and they resume on the new API with no job lost', async () => {
    await startApi();
    const submit = async () => (await call(api!.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 3000 } })).body.id as string;
    const pollIds = await Promise.all([1, 2, 3, 4, 5].map(submit));
    const streamIds = await Promise.all([1, 2, 3, 4, 5].map(submit));
    figures.accepted += pollIds.length + streamIds.length;

    const polls = pollIds.map(longPoll);
    // A stream counts as held once it is watched, which is before its first event is written:
    // wait for that event too, or a SIGTERM in between ends the stream with nothing to show.
    const begun = new Set<string>();
    const streams = streamIds.map((id) => followStream(`http://127.0.0.1:${port}/jobs/${id}/events`, {}, () => begun.add(id)));
    let last = { polls: 0, streams: 0 };
    await waitFor(
      async () => {
        last = await held();
        return last.polls >= 5 && last.streams >= 5 && begun.size >= 5;
      },
      10000,
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: held ${JSON.stringify(last)}, ${begun.size} streams begun; api log: ${JSON.stringify(api!.lines.slice(-10))}`);
    });

    const old = api!;
    old.kill(signal);
    figures.injected++;
    const [pollEnds, streamEnds] = await Promise.all([Promise.all(polls), Promise.all(streams)]);
    const code = await old.exited;
    if (signal === 'SIGTERM') {
      // A clean end: the long-polls are answered 202 with the current state, the streams end, the process exits 0.
      expect(code).toBe(0);
      expect(pollEnds.map((p) => p.status)).toEqual(pollIds.map(() => 202));
      expect(streamEnds.map((s) => s.end)).toEqual(streamIds.map(() => 'ended'));
    } else {
      // Killed: the connections break, which a client sees and retries.
      expect(code).toBe('SIGKILL');
      expect(pollEnds.every((p) => p.status === 'broken' || p.status === 202)).toBe(true);
    }
    // What each stream got began with the current state (a stream killed while it was being set up
    // may have got nothing), and no terminal event yet: the jobs take 3 s.
    for (const s of streamEnds) {
      if (signal === 'SIGTERM' || s.events.length > 0) expect(s.events[0]?.event).toBe('state');
      expect(s.events.some(terminal)).toBe(false);
    }

    // The new API on the same address: clients retry, streams resume from their Last-Event-ID.
    await startApi();
    const [again, resumed] = await Promise.all([
      Promise.all(pollIds.map((id) => call(api!.url, 'GET', `/jobs/${id}/result?wait=30`))),
      Promise.all(
        streamIds.map((id, i) => {
          // A client that saw nothing yet simply opens the stream again, from the current state.
          const lastId = streamEnds[i].events.at(-1)?.id ?? '0-0';
          const headers: Record<string, string> = lastId === '0-0' ? {} : { 'last-event-id': lastId };
          return followStream(`${api!.url}/jobs/${id}/events`, headers).then((f): [Followed, string] => [f, lastId]);
        }),
      ),
    ]);
    expect(again.map((r) => [r.status, r.body.state])).toEqual(pollIds.map(() => [200, 'completed']));
    for (const [f, lastId] of resumed) {
      expect(f.end).toBe('ended');
      // Only what came after the last event seen, ending with exactly one terminal event.
      // Ids are BullMQ stream ids: ordered by compareIds, not as numbers.
      for (const e of f.events) expect(compareIds(e.id!, lastId)).toBeGreaterThan(0);
      expect(f.events.filter(terminal).map((e) => e.event)).toEqual(['completed']);
      expect(f.events.at(-1)!.data.state).toBe('completed');
    }
    figures.completed += again.filter((r) => r.body.state === 'completed').length;
    figures.completed += resumed.filter(([f]) => f.events.at(-1)?.data.state === 'completed').length;
    figures.lost = figures.accepted - figures.completed;

    api!.kill('SIGTERM');
    expect(await api!.exited).toBe(0);
    api = undefined;
  }, 60000);
});
