import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '@async-jobs/shared';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { noteCancelRequested } from '../apps/api/src/jobs/cancel-request';
import { createTestContext, enqueue, waitFor } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

/*
 * A cancel asked for while a job ran, which the worker running it missed (it was
 * reconnecting, say): the API notes it in the job's tombstone, and the attempt then fails.
 * With no backoff, BullMQ hands the retry straight back to a worker, before any API's
 * relay sees it. No API runs here, so only the worker can stop that retry.
 */
const ctx = createTestContext();
let worker: RunningWorker;
const logged: Array<Record<string, unknown>> = [];

/** Each job's runs; its first run waits for the test's word, then fails. */
const runs = new Map<string, number>();
const release = new Map<string, () => void>();
const flaky: JobHandler = {
  name: 'echo',
  async run(data: { failFirst?: boolean }, hctx) {
    const n = (runs.get(hctx.jobId) ?? 0) + 1;
    runs.set(hctx.jobId, n);
    if (data.failFirst && n === 1) {
      await new Promise<void>((resolve) => release.set(hctx.jobId, resolve));
      throw new Error('flaky upstream');
    }
    return { run: n };
  },
};

beforeAll(async () => {
  const lines = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger('worker-test', 'info', lines);
  worker = await startWorker(ctx, {}, new Map([['echo', flaky]]), logger);
});
afterAll(async () => {
  await worker.close();
  await ctx.cleanup();
});

const noteCancel = (id: string) => noteCancelRequested({ redis: ctx.redis, keys: ctx.keys, config: ctx.config() }, 'echo', id);

describe('a retry that follows a cancel the worker missed', () => {
  it('is cancelled as it starts, and its handler does not run again', async () => {
    const id = await enqueue(ctx, 'echo', { failFirst: true }, { attempts: 3, backoff: { type: 'fixed', delay: 0 } });
    await waitFor(() => release.has(id));
    await noteCancel(id);
    release.get(id)!();
    const ended = await waitFor(async () => {
      const r = await worker.record(id);
      return r && r.state !== 'active' && r.state !== 'queued' ? r : null;
    });
    expect(ended).toMatchObject({
      state: 'cancelled',
      attempts: { made: 2, max: 3 },
      error: { name: 'CancelledError', message: 'cancelled by request while it waited to be retried' },
    });
    expect(runs.get(id)).toBe(1);
    expect(logged.filter((l) => l.jobId === id).map((l) => l.msg)).toEqual(['job attempt failed; it will be retried', 'job cancelled']);
  });

  it('runs the retry as usual when no cancel was noted', async () => {
    const id = await enqueue(ctx, 'echo', { failFirst: true }, { attempts: 3, backoff: { type: 'fixed', delay: 0 } });
    await waitFor(() => release.has(id));
    release.get(id)!();
    const ended = await waitFor(async () => {
      const r = await worker.record(id);
      return r?.state === 'completed' ? r : null;
    });
    expect(ended).toMatchObject({ result: { run: 2 }, attempts: { made: 2, max: 3 }, lastError: { message: 'flaky upstream' } });
  });
});
