import { describe, expect, it } from 'vitest';
import { JOB_HASH_FIELDS, luaScript } from '@async-jobs/shared';

describe('the fields read-job.lua fetches of a job', () => {
  it('are the ones the job resource is made of (JOB_HASH_FIELDS), timestamp first', () => {
    const list = /local FIELDS = \{([^}]*)\}/.exec(luaScript('read-job'))?.[1];
    expect(list, 'read-job.lua has no FIELDS list').toBeDefined();
    const fetched = [...list!.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(fetched).toEqual([...JOB_HASH_FIELDS]);
    expect(fetched[0]).toBe('timestamp');
  });
});
