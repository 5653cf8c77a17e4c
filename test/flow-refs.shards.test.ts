import { jobRefOfKey, viewOfJob } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';

/** A job of a sharded type lives in a queue per shard (`echo~2`); clients know the type only. */
describe('flow references to a job of a sharded type', () => {
  it('name the type, not the shard queue', () => {
    expect(jobRefOfKey('{aj}:echo~2:3f2a')).toEqual({ type: 'echo', id: '3f2a' });
    expect(jobRefOfKey('{ns:aj}:http.request:9')).toEqual({ type: 'http.request', id: '9' });
  });

  it("keep the colons of a schedule run's id, and read a foreign prefix's key by its last two parts", () => {
    expect(jobRefOfKey('{ns:aj}:sleep~2:repeat:nightly:1764547200000')).toEqual({ type: 'sleep', id: 'repeat:nightly:1764547200000' });
    expect(jobRefOfKey('bull:echo:42')).toEqual({ type: 'echo', id: '42' });
    expect(jobRefOfKey('no-colons')).toBeNull();
  });

  it("appear so in a parent's failure and a child's parent", () => {
    const failed = viewOfJob('p1', 'collect', 'failed', { timestamp: '1', failedReason: 'child {aj}:echo~2:c1 failed', opts: '{}' }, {});
    expect(failed.error).toEqual({ name: 'Error', message: 'child echo job c1 failed' });
    const child = viewOfJob('c1', 'echo', 'queued', { timestamp: '1', parentKey: '{aj}:collect~1:p1', opts: '{}' }, {});
    expect(child.parent).toEqual({ type: 'collect', id: 'p1' });
  });
});
