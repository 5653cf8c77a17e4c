import { createLogger } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { createNotifier, type Notice } from '../apps/api/src/events/stream-reader';
import type { StreamConsumer, StreamFollower } from '../apps/api/src/events/stream-follower';
import { waitFor } from './helpers';

/** A follower that reads nothing: the test calls its one consumer's missed() itself. */
function quietFollower() {
  let consumer: StreamConsumer | undefined;
  const follower: StreamFollower = {
    set: { group: null, queues: ['echo'], streams: ['s'], types: ['echo'] },
    streams: ['s'],
    add(c) {
      consumer = c;
    },
    remove: () => undefined,
    kick: () => undefined,
    ends: async () => ['0-0'],
    onReadFailure: () => undefined,
    close: async () => undefined,
  };
  return { follower, consumer: () => consumer! };
}

describe('waiters after entries were trimmed unread', () => {
  it('read their jobs again at once, then at most once a second however many reads find a gap', async () => {
    const { follower, consumer } = quietFollower();
    const notifier = createNotifier([follower], createLogger('test', 'silent'));
    await notifier.ready();
    const heard: Notice['kind'][] = [];
    const stop = notifier.watch('job-1', 'poll', (n) => heard.push(n.kind));
    try {
      const gap = { stream: 's', queue: 'echo', type: 'echo', after: '1-0', firstHeld: '5-0' };
      for (let i = 0; i < 5; i++) consumer().missed?.([gap]);
      expect(heard).toEqual(['resync']);
      // The gaps after the first are not forgotten: one more resync follows, after the pause.
      await waitFor(() => heard.length === 2, 3000);
      expect(heard).toEqual(['resync', 'resync']);
    } finally {
      stop();
      await notifier.close();
    }
  });

  it('hear nothing more once the notifier is closed', async () => {
    const { follower, consumer } = quietFollower();
    const notifier = createNotifier([follower], createLogger('test', 'silent'));
    await notifier.ready();
    const heard: Notice['kind'][] = [];
    notifier.watch('job-1', 'poll', (n) => heard.push(n.kind));
    const gap = { stream: 's', queue: 'echo', type: 'echo', after: '1-0', firstHeld: '5-0' };
    consumer().missed?.([gap]);
    consumer().missed?.([gap]);
    await notifier.close();
    await new Promise((r) => setTimeout(r, 1200));
    // The resync at once and the notice of closing; the pending one was dropped with its timer.
    expect(heard).toEqual(['resync', 'closing']);
  });
});
