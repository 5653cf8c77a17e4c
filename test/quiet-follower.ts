import type { StreamConsumer } from '../apps/api/src/events/stream-consumer';
import type { StreamFollower } from '../apps/api/src/events/stream-follower';
import type { Gap } from '../apps/api/src/events/streams';

/**
 * A stream follower that reads nothing, for tests of its consumers: the test drives what a
 * real one would (a gap, a failed read) itself. `ends` answers where the streams end (by
 * default, nowhere yet); make it throw to stand for Redis being away.
 */
export function quietFollower(ends: () => Promise<string[]> = async () => ['0-0']) {
  let consumer: StreamConsumer | undefined;
  let failed: (() => void) | undefined;
  const follower: StreamFollower = {
    set: { group: null, queues: ['echo'], streams: ['s'], types: ['echo'] },
    streams: ['s'],
    add(c) {
      consumer = c;
    },
    remove: () => undefined,
    kick: () => undefined,
    ends,
    onReadFailure(listener) {
      failed = listener;
    },
    close: async () => undefined,
  };
  return { follower, missed: (gaps: Gap[]) => consumer!.missed!(gaps), readFailed: () => failed!() };
}
