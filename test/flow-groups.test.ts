import { createKeyspace, HttpError, layoutSpecOf } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { assertOneGroup } from '../apps/api/src/jobs/flow-groups';

const keys = createKeyspace('tflow', layoutSpecOf({ QUEUE_GROUPS: 'io=hash,sleep', QUEUE_SHARDS: 'echo=2' }));

const refusal = (types: string[]) => {
  try {
    assertOneGroup(keys, types);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }
  return null;
};

describe('a flow across queue groups', () => {
  it('is allowed within one group', () => {
    expect(refusal(['hash', 'sleep', 'hash'])).toBeNull();
    expect(refusal(['http.request'])).toBeNull();
  });

  it('is refused with 400 naming the groups and the types in each', () => {
    const err = refusal(['hash', 'http.request'])!;
    expect(err.status).toBe(400);
    expect(err.code).toBe('validation_failed');
    expect(err.message).toMatch(/in "default", "io"/);
    expect(err.details).toEqual([{ path: 'children', message: expect.stringMatching(/default: http\.request; io: hash/) }]);
  });

  it('is refused for a sharded type, whose shards are groups of their own', () => {
    expect(refusal(['echo'])!.message).toMatch(/"echo~1", "echo~2"/);
  });
});
