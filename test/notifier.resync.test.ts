import { createLogger } from '@async-jobs/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNotifier, type Notice } from '../apps/api/src/events/notifier';
import { quietFollower } from './quiet-follower';

const gap = { stream: 's', queue: 'echo', type: 'echo', after: '1-0', firstHeld: '5-0' };

/** A notifier over a quiet follower, and what a waiter on one job has heard. */
async function watched() {
  const quiet = quietFollower();
  const notifier = createNotifier([quiet.follower], createLogger('test', 'silent'));
  await notifier.ready();
  const heard: Notice['kind'][] = [];
  notifier.watch('job-1', 'poll', (n) => heard.push(n.kind));
  return { notifier, heard, missed: () => quiet.missed([gap]), readFailed: quiet.readFailed };
}

// The pause between resyncs is timed on the clock the notifier reads: both are faked, so nothing here sleeps.
beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
afterEach(() => void vi.useRealTimers());

describe('waiters after entries were trimmed unread, or after failed reads', () => {
  it('read their jobs again at once, then at most once a second however many reads find a gap', async () => {
    const w = await watched();
    for (let i = 0; i < 5; i++) w.missed();
    expect(w.heard).toEqual(['resync']);
    vi.advanceTimersByTime(999);
    expect(w.heard).toEqual(['resync']);
    // The gaps after the first are not forgotten: one more resync follows, after the pause.
    vi.advanceTimersByTime(1);
    expect(w.heard).toEqual(['resync', 'resync']);
    await w.notifier.close();
  });

  it('share that pace with the resyncs of failed reads', async () => {
    const w = await watched();
    w.readFailed();
    w.missed();
    w.readFailed();
    expect(w.heard).toEqual(['resync']);
    vi.advanceTimersByTime(1000);
    expect(w.heard).toEqual(['resync', 'resync']);
    await w.notifier.close();
  });

  it('hear nothing more once the notifier is closed', async () => {
    const w = await watched();
    w.missed();
    w.missed();
    await w.notifier.close();
    vi.advanceTimersByTime(5000);
    // The resync at once and the notice of closing; the pending one was dropped with its timer.
    expect(w.heard).toEqual(['resync', 'closing']);
  });
});

describe('waiters that came before the notifier learnt where the streams end', () => {
  it('read their jobs again once it has: an ending before that point is not read from the streams', async () => {
    let learnt!: (ends: string[]) => void;
    const quiet = quietFollower(() => new Promise((resolve) => (learnt = resolve)));
    const notifier = createNotifier([quiet.follower], createLogger('test', 'silent'));
    const heard: Notice['kind'][] = [];
    notifier.watch('job-1', 'poll', (n) => heard.push(n.kind));
    learnt(['7-0']);
    await notifier.ready();
    expect(heard).toEqual(['resync']);
    await notifier.close();
  });
});
