import { describe, expect, it } from 'vitest';
import { isRedisUnavailable } from '../apps/api/src/middleware/redis-errors';

/** An EXECABORT as ioredis rejects a discarded transaction with: the refusals of its queued commands attached. */
const execAbort = (...previous: string[]) =>
  Object.assign(new Error('EXECABORT Transaction discarded because of previous errors.'), { previousErrors: previous.map((m) => new Error(m)) });

describe('which Redis errors a request answers 503 unavailable for', () => {
  it('takes a Cluster that cannot serve, or is moving a slot, for Redis unavailable', () => {
    for (const message of [
      'CLUSTERDOWN The cluster is down',
      'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
      'MOVED 5701 127.0.0.1:7202',
      'ASK 5701 127.0.0.1:7202',
      'TRYAGAIN Multiple keys request during rehashing of slot',
    ])
      expect(isRedisUnavailable(new Error(message)), message).toBe(true);
  });

  it('takes a transaction discarded because a Cluster refused its commands for unavailable, and one discarded for a bad command for a bug', () => {
    expect(isRedisUnavailable(execAbort('CLUSTERDOWN The cluster is down', 'CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isRedisUnavailable(execAbort("ERR wrong number of arguments for 'hset' command"))).toBe(false);
    expect(isRedisUnavailable(execAbort('CLUSTERDOWN The cluster is down', 'ERR unknown command'))).toBe(false);
    expect(isRedisUnavailable(new Error('EXECABORT Transaction discarded because of previous errors.'))).toBe(false);
  });

  it('leaves other errors alone', () => {
    for (const message of ['ERR syntax error', 'WRONGTYPE Operation against a key holding the wrong kind of value', 'MOVED away'])
      expect(isRedisUnavailable(new Error(message)), message).toBe(false);
  });
});
