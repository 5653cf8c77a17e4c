import { createLogger } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { CAP_FROM, CAPPED_PERCENT, capHeapGrowthWhileHeld, FREE_BELOW, heapGrowthGiven } from '../apps/api/src/events/heap-growth';
import { createNotifier } from '../apps/api/src/events/notifier';
import { quietFollower } from './quiet-follower';

/** A notifier over a quiet follower, wrapped, and the V8 flags it set, in order. */
async function governed(operatorChose = false) {
  const set: string[] = [];
  const notifier = capHeapGrowthWhileHeld(createNotifier([quietFollower().follower], createLogger('test', 'silent')), (f) => set.push(f), operatorChose);
  await notifier.ready();
  return { notifier, set };
}

describe("the API's cap on V8's old-generation growth", () => {
  it('is set once as many requests are held, and lifted only once far fewer are', async () => {
    const { notifier, set } = await governed();
    const unwatch: (() => void)[] = [];
    const hold = (n: number) => {
      for (let i = 0; i < n; i++) unwatch.push(notifier.watch(`job-${unwatch.length}`, i % 2 ? 'poll' : 'stream', () => undefined));
    };
    hold(CAP_FROM - 1);
    expect(set).toEqual([]);
    hold(1);
    expect(set).toEqual([`--heap-growing-percent=${CAPPED_PERCENT}`]);
    hold(500);
    // Down to FREE_BELOW held: still capped, so a count wavering near either bound does not flip it.
    while (unwatch.length > FREE_BELOW) unwatch.pop()!();
    expect(notifier.watcherCount()).toBe(FREE_BELOW);
    expect(set).toHaveLength(1);
    unwatch.pop()!();
    expect(set).toEqual([`--heap-growing-percent=${CAPPED_PERCENT}`, '--heap-growing-percent=0']);
    // A second unwatch of the same request changes nothing.
    const again = notifier.watch('job-x', 'poll', () => undefined);
    again();
    again();
    hold(CAP_FROM - unwatch.length);
    expect(set).toHaveLength(3);
    expect(set[2]).toBe(`--heap-growing-percent=${CAPPED_PERCENT}`);
    await notifier.close();
  });

  it('leaves the held requests hearing what the notifier tells them', async () => {
    const { notifier } = await governed();
    const heard: string[] = [];
    const unwatch = notifier.watch('job-1', 'poll', (n) => heard.push(n.kind));
    notifier.resyncAll();
    unwatch();
    notifier.resyncAll();
    expect(heard).toEqual(['resync']);
    await notifier.close();
  });

  it("is left alone when node was started with the operator's own setting", async () => {
    expect(heapGrowthGiven(['--max-semi-space-size=4', '--heap-growing-percent=20'])).toBe(true);
    expect(heapGrowthGiven(['--enable-source-maps', '--heap_growing_percent=30'])).toBe(true);
    expect(heapGrowthGiven(['--max-semi-space-size=4', ''])).toBe(false);
    const { notifier, set } = await governed(true);
    for (let i = 0; i < CAP_FROM; i++) notifier.watch(`job-${i}`, 'poll', () => undefined);
    expect(set).toEqual([]);
    await notifier.close();
  });
});
