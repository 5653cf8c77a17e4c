import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createResultsStore, type CallbackPayload } from '@async-jobs/shared';
import { Writable } from 'node:stream';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeliverer } from '../apps/worker/src/callbacks/deliver';
import { createTestContext, enqueue, testRedis } from './helpers';

const ctx = createTestContext();
let receiver: http.Server;
let base: string;
const received: string[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    received.push(req.url ?? '');
    req.resume();
    res.writeHead(req.url?.includes('/refuse') ? 500 : 200).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
  await ctx.cleanup();
});

beforeEach(() => {
  received.length = 0;
});

/** A delivery job as BullMQ hands it to the deliverer: its first attempt of three. */
const delivery = (data: CallbackPayload) => ({ data, attemptsMade: 0, opts: { attempts: 3 } }) as unknown as Job<CallbackPayload>;

/** A deliverer that may call the receiver: a worker's, with CALLBACK_SECRET set and the receiver's host listed. */
function receiverDeliverer(logger = createLogger('test', 'silent')) {
  const config = ctx.config({ CALLBACK_SECRET: 's', CALLBACK_ALLOWED_HOSTS: new URL(base).host });
  const store = createResultsStore({ redis: ctx.redis, keys: ctx.keys, resultTtlSeconds: config.RESULT_TTL_SECONDS });
  return createDeliverer(config, store, logger);
}

describe('a callback delivery', () => {
  it('calls no URL with credentials in it (another producer wrote it), and does not repeat the password', async () => {
    const deliverer = receiverDeliverer();
    try {
      const id = await enqueue(ctx, 'echo', {}, { delay: 60_000 });
      const url = `http://cb:Hunter2secret@${new URL(base).host}/hook/creds`;
      const refused = await deliverer.deliver(delivery({ id, type: 'echo', url })).catch((err: Error) => err);
      expect(refused).toBeInstanceOf(UnrecoverableError);
      expect((refused as Error).message).toMatch(/carries credentials/);
      expect((refused as Error).message).not.toContain('Hunter2secret');
      expect(received).toEqual([]);
    } finally {
      await deliverer.close();
    }
  });

  it('logs the status a receiver refused the delivery with, and fails the attempt so that it is retried', async () => {
    const logged: { msg: string; status?: number; jobId?: string }[] = [];
    const lines = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line));
        done();
      },
    });
    const deliverer = receiverDeliverer(createLogger('test', 'info', lines));
    // The job ended (BullMQ's manual processing: take it, complete it), so there is a resource to send.
    const id = await enqueue(ctx, 'echo', { n: 1 });
    const queue = ctx.keys.queueOf('echo', id);
    const connection = testRedis({ maxRetriesPerRequest: null });
    const taker = new Worker(queue, null, { connection, prefix: ctx.keys.prefixOf(queue) });
    try {
      const job = await taker.getNextJob('t');
      await job!.moveToCompleted({ n: 1 }, 't', false);
      const refused = await deliverer.deliver(delivery({ id, type: 'echo', url: `${base}/hook/refuse` })).catch((err: Error) => err);
      expect(refused).toBeInstanceOf(Error);
      expect(refused).not.toBeInstanceOf(UnrecoverableError);
      expect((refused as Error).message).toBe('callback receiver answered 500');
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'callback receiver refused the delivery', status: 500, jobId: id }));
    } finally {
      await taker.close();
      connection.disconnect();
      await deliverer.close();
    }
  });

  it('sends nothing for a job that runs again since its ending (a retry by hand): it has no final resource yet', async () => {
    const deliverer = receiverDeliverer();
    try {
      const id = await enqueue(ctx, 'echo', {}, { delay: 60_000 });
      const outcome = await deliverer.deliver(delivery({ id, type: 'echo', url: `${base}/hook/again` }));
      expect(outcome).toEqual({ skipped: 'the job is delayed again' });
      expect(received).toEqual([]);
    } finally {
      await deliverer.close();
    }
  });
});
