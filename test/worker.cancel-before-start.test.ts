import { createLogger } from '@async-jobs/shared';
import { Job, Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { createProcessor } from '../apps/worker/src/process-job';
import { createTestContext } from './helpers';

/*
 * A cancel can reach a worker (on the control channel) in the moment between BullMQ handing
 * it the job and the attempt being registered; the worker remembers it, and the attempt must
 * then end cancelled before the handler runs. The race tests hit that moment only now and
 * then, so the processor is called here with a real BullMQ job and the cancel already heard.
 */
const ctx = createTestContext();
afterAll(() => ctx.cleanup());

describe('a cancel heard before the attempt started', () => {
  it('ends the attempt cancelled without running the handler', async () => {
    const [name] = ctx.keys.queuesOf('echo');
    const queue = new Queue(name, { connection: ctx.redis, prefix: ctx.keys.prefixOf(name) });
    try {
      const added = await queue.add('echo', { n: 1 });
      const job = (await Job.fromId(queue, added.id!))!;
      let ran = 0;
      const handler: JobHandler = {
        name: 'echo',
        async run(data) {
          ran++;
          return data;
        },
      };
      const processJob = createProcessor({
        type: 'echo',
        handler,
        config: ctx.config(),
        logger: createLogger('test', 'silent'),
        draining: new AbortController().signal,
        shutdown: new AbortController().signal,
        running: new Map(),
        cancelRequested: (id) => id === added.id,
      });
      await expect(processJob(job, undefined)).rejects.toMatchObject({ name: 'CancelledError', message: 'cancelled by request' });
      expect(ran).toBe(0);
    } finally {
      await queue.close();
    }
  });
});
