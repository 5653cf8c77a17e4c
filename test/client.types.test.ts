import { describe, expect, expectTypeOf, it } from 'vitest';
import { AsyncJobsError, createClient, type Job, type JobData, type JobEvent } from '../packages/client/src/index';
import { useApi } from './system-harness';

// The `@ts-expect-error` lines below are checked by `tsc -b` (npm run build), not by vitest:
// each must be a compile error, or the build fails. The runtime half shows that the
// server refuses the same mistakes.

const sys = useApi();
const client = () => createClient({ baseUrl: sys.api.url });

describe('client types', () => {
  it("takes each type's data from its shared schema, fields with defaults optional", () => {
    expectTypeOf<JobData<'sleep'>>().toEqualTypeOf<{ ms: number }>();
    expectTypeOf<JobData<'hash'>>().toEqualTypeOf<{ text: string; algorithm?: 'sha256' | 'sha512' | 'md5'; rounds?: number }>();
    expectTypeOf<JobData<'not-a-known-type'>>().toBeUnknown();
    expectTypeOf<Job['state']>().toEqualTypeOf<'queued' | 'delayed' | 'waiting-children' | 'active' | 'completed' | 'failed' | 'cancelled'>();
    const narrow = (e: JobEvent) => {
      if (e.event === 'completed') expectTypeOf(e.data).toEqualTypeOf<Job>();
      else if (e.event === 'progress') expectTypeOf(e.data.progress).toEqualTypeOf<Job['progress'] | undefined>();
    };
    void narrow;
  });

  it('refuses a typo in data at compile time, as the server does at run time', async () => {
    // @ts-expect-error `rouds` is not a field of hash's data
    const typo = client().submit('hash', { text: 'abc', rouds: 2 });
    await expect(typo).rejects.toMatchObject({ status: 400, code: 'validation_failed' });

    // @ts-expect-error `ms` is a number
    const wrongType = client().submit('sleep', { ms: '5' });
    await expect(wrongType).rejects.toBeInstanceOf(AsyncJobsError);

    // @ts-expect-error `ms` is required
    const missing = client().submit('sleep', {});
    await expect(missing).rejects.toMatchObject({ code: 'validation_failed' });

    const batch = client().submitBatch([
      { type: 'echo', data: { ok: true } },
      // @ts-expect-error a typo inside a batch item
      { type: 'sleep', data: { mss: 1 } },
    ]);
    await expect(batch).rejects.toMatchObject({ status: 400, details: expect.arrayContaining([expect.objectContaining({ index: 1, path: 'jobs.1.data' })]) });
  });

  it('takes any data for a type it does not know, and leaves the check to the server', async () => {
    const submitted = client().submit('no.such.type', { anything: 1 });
    await expect(submitted).rejects.toMatchObject({ status: 400, code: 'unknown_type' });
  });
});
