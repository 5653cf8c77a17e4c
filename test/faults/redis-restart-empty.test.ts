import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call } from '../api-harness';
import { createTestContext, waitFor } from '../helpers';
import { readStream } from '../sse-client';
import { useApiOnOwnRedis } from './own-redis-api';

/**
 * Redis comes back without the jobs that clients were holding requests for (restarted with
 * no data, or from an older snapshot). With no other traffic nothing new is logged to the
 * streams, so the API must notice the reconnect itself: held long-polls and event streams
 * learn that their job is gone, instead of waiting out their time or forever.
 */
const sys = useApiOnOwnRedis(createTestContext());

describe('when Redis comes back without the jobs held requests wait for', () => {
  it('answers the held long-poll 404 and ends the event stream, long before their time is up', async () => {
    // Delayed, and no worker: nothing about it will ever be logged again.
    const id = (await call(sys.api.url, 'POST', '/jobs', { type: 'echo', data: {}, options: { delay: 600_000 } })).body.id as string;
    const longPoll = call(sys.api.url, 'GET', `/jobs/${id}/result?wait=25`);
    // Aborted (and the test failed) if the stream is still open after 20 s: it used to stay open.
    const stream = readStream(`${sys.api.url}/jobs/${id}/events`, {}, AbortSignal.timeout(20_000));
    await waitFor(() => sys.api.context.notifier.watcherCount('poll') === 1 && sys.api.context.notifier.watcherCount('stream') === 1);

    await sys.redis.stop('kill');
    for (const f of readdirSync(sys.redis.dir)) rmSync(join(sys.redis.dir, f), { recursive: true, force: true });
    await sys.redis.start();

    const held = await longPoll;
    expect(held.status).toBe(404);
    const { status, events } = await stream;
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(['state']);
  });
});
