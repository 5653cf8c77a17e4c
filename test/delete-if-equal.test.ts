import { deleteIfEqual } from '@async-jobs/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext } from './helpers';

const ctx = createTestContext();
afterAll(() => ctx.cleanup());

// What releases a failed submit's idempotency key and a schedule name's lock.
describe('delete-if-equal', () => {
  it('deletes a key that still holds the value given', async () => {
    const key = ctx.keys.idempotency('release-mine');
    await ctx.redis.set(key, 'fp id-1');
    expect(await deleteIfEqual(ctx.redis, key, 'fp id-1')).toBe(true);
    expect(await ctx.redis.exists(key)).toBe(0);
  });

  it('leaves a key that another request holds now, and one that is gone', async () => {
    const key = ctx.keys.scheduleLock('nightly');
    await ctx.redis.set(key, 'their-token');
    expect(await deleteIfEqual(ctx.redis, key, 'my-token')).toBe(false);
    expect(await ctx.redis.get(key)).toBe('their-token');
    expect(await deleteIfEqual(ctx.redis, ctx.keys.scheduleLock('never-taken'), 'my-token')).toBe(false);
  });
});
