import { closeRedis, createRedis } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { waitFor } from './helpers';
import { freePort } from './faults/redis-server';

/** 'pending' while `p` has not settled within `ms`, else how it settled. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([
      p.then(
        () => 'resolved',
        (err: Error) => `rejected: ${err.message}`,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('closing a connection whose Redis is away', () => {
  it('rejects the commands it queued while it waited to reconnect, rather than leaving them pending for good', async () => {
    // Nothing listens there: the connection fails, waits, tries again.
    const redis = createRedis(`redis://127.0.0.1:${await freePort()}`, 'blocking');
    redis.on('error', () => {});
    await waitFor(() => redis.status === 'reconnecting');
    const queued = redis.get('some-key');
    await closeRedis(redis);
    // Anything awaiting it (a listener's loop, a shutdown) gets an answer and can finish.
    expect(await settledWithin(queued, 2000)).toBe('rejected: Connection is closed.');
  });
});
