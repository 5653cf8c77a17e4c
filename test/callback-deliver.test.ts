import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createResultsStore, type CallbackPayload } from '@async-jobs/shared';
import { Writable } from 'node:stream';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeliverer } from '../apps/worker/src/callbacks/deliver';
import type { LookupFn } from '../apps/worker/src/http/address-guard';
import { closedPort } from './closed-port';
import { createTestContext, enqueue, testRedis } from './helpers';

const ctx = createTestContext();
let receiver: http.Server;
let base: string;
const received: string[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    received.push(req.url ?? '');
    req.resume();
    if (req.url?.includes('/moved')) res.writeHead(302, { location: `${base}/hook/elsewhere` }).end();
    else res.writeHead(req.url?.includes('/refuse') ? 500 : 200).end();
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

/** A deliverer that may call the receiver: a worker's, with CALLBACK_SECRET set and the receiver's host listed (or `hosts`). */
function receiverDeliverer(logger = createLogger('test', 'silent'), hosts = new URL(base).host, resolve?: LookupFn) {
  const config = ctx.config({ CALLBACK_SECRET: 's', CALLBACK_ALLOWED_HOSTS: hosts });
  const store = createResultsStore({ redis: ctx.redis, keys: ctx.keys, resultTtlSeconds: config.RESULT_TTL_SECONDS });
  return createDeliverer(config, store, logger, resolve);
}

/** The JSON lines a logger wrote, and the logger. */
function capturedLogger() {
  const logged: { msg: string; status?: number; jobId?: string; err?: string }[] = [];
  const lines = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line));
      done();
    },
  });
  return { logged, logger: createLogger('test', 'info', lines) };
}

/** An echo job that ended (BullMQ's manual processing: take it, complete it), so there is a resource to send. */
async function endedJob(): Promise<string> {
  const id = await enqueue(ctx, 'echo', { n: 1 });
  const queue = ctx.keys.queueOf('echo', id);
  const connection = testRedis({ maxRetriesPerRequest: null });
  const taker = new Worker(queue, null, { connection, prefix: ctx.keys.prefixOf(queue) });
  try {
    const job = await taker.getNextJob('t');
    await job!.moveToCompleted({ n: 1 }, 't', false);
    return id;
  } finally {
    await taker.close();
    connection.disconnect();
  }
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
    const { logged, logger } = capturedLogger();
    const deliverer = receiverDeliverer(logger);
    try {
      const id = await endedJob();
      const refused = await deliverer.deliver(delivery({ id, type: 'echo', url: `${base}/hook/refuse` })).catch((err: Error) => err);
      expect(refused).toBeInstanceOf(Error);
      expect(refused).not.toBeInstanceOf(UnrecoverableError);
      expect((refused as Error).message).toBe('callback receiver answered 500');
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'callback receiver refused the delivery', status: 500, jobId: id }));
    } finally {
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

  it('says why a receiver did not answer, in the log and the attempt error, and retries', async () => {
    const { logged, logger } = capturedLogger();
    const port = await closedPort();
    const deliverer = receiverDeliverer(logger, `127.0.0.1:${port}`);
    try {
      const id = await endedJob();
      const failed = await deliverer.deliver(delivery({ id, type: 'echo', url: `http://127.0.0.1:${port}/hook` })).catch((err: Error) => err);
      expect(failed).not.toBeInstanceOf(UnrecoverableError);
      // fetch's own message is only "fetch failed".
      expect((failed as Error).message).toBe(`callback receiver did not answer: request to 127.0.0.1:${port} failed: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'callback delivery failed', jobId: id, err: expect.stringContaining('ECONNREFUSED') }));
    } finally {
      await deliverer.close();
    }
  });

  it('does not retry a delivery the address guard refused, and says why', async () => {
    const { logged, logger } = capturedLogger();
    const port = new URL(base).port;
    // A listed name that resolves to a loopback address nobody listed.
    const resolve: LookupFn = (_host, _opts, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
    const deliverer = receiverDeliverer(logger, `hook.test:${port}`, resolve);
    try {
      const id = await endedJob();
      // What the API writes beside a job submitted with a callbackUrl (enqueue adds to BullMQ only).
      await ctx.redis.hset(ctx.keys.tombstone('echo', id), 'cb', JSON.stringify({ state: 'pending', attempts: 0, lastStatus: null }));
      const refused = await deliverer.deliver(delivery({ id, type: 'echo', url: `http://hook.test:${port}/hook/guarded` })).catch((err: Error) => err);
      expect(refused).toBeInstanceOf(UnrecoverableError);
      const why = 'hook.test resolves to 127.0.0.1: not a public address, and not in CALLBACK_ALLOWED_HOSTS';
      expect((refused as Error).message).toBe(`callback not sent: ${why}`);
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'callback not sent', jobId: id, err: why }));
      expect(received).toEqual([]);
      const record = await ctx.redis.hget(ctx.keys.tombstone('echo', id), 'cb');
      expect(JSON.parse(record!)).toEqual({ state: 'failed', attempts: 1, lastStatus: null });
    } finally {
      await deliverer.close();
    }
  });

  it('does not count a redirect as delivered: it follows none, and the attempt fails so that it is retried', async () => {
    const deliverer = receiverDeliverer();
    try {
      const id = await endedJob();
      await ctx.redis.hset(ctx.keys.tombstone('echo', id), 'cb', JSON.stringify({ state: 'pending', attempts: 0, lastStatus: null }));
      const moved = await deliverer.deliver(delivery({ id, type: 'echo', url: `${base}/hook/moved` })).catch((err: Error) => err);
      expect(moved).toBeInstanceOf(Error);
      expect(moved).not.toBeInstanceOf(UnrecoverableError);
      expect((moved as Error).message).toBe('callback receiver answered 302');
      expect(received).toEqual(['/hook/moved']);
      const record = await ctx.redis.hget(ctx.keys.tombstone('echo', id), 'cb');
      expect(JSON.parse(record!)).toEqual({ state: 'pending', attempts: 1, lastStatus: 302 });
    } finally {
      await deliverer.close();
    }
  });

  it('calls no host taken out of CALLBACK_ALLOWED_HOSTS since the submit, not even to look it up, and says why', async () => {
    const lookups: string[] = [];
    const resolve: LookupFn = (host, _opts, callback) => {
      lookups.push(host);
      callback(null, [{ address: '127.0.0.1', family: 4 }]);
    };
    const port = new URL(base).port;
    // The job was submitted when gone.test was listed; this worker's list no longer has it.
    const deliverer = receiverDeliverer(createLogger('test', 'silent'), `still.test:${port}`, resolve);
    try {
      const id = await endedJob();
      const refused = await deliverer.deliver(delivery({ id, type: 'echo', url: `http://gone.test:${port}/hook/unlisted` })).catch((err: Error) => err);
      expect(refused).toBeInstanceOf(UnrecoverableError);
      expect((refused as Error).message).toBe(`callback to gone.test:${port} is no longer allowed by this server's configuration`);
      expect(lookups).toEqual([]);
      expect(received).toEqual([]);
    } finally {
      await deliverer.close();
    }
  });
});
