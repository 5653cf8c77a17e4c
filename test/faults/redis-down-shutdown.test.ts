import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLOSE_ALLOWANCE_MS } from '@async-jobs/shared';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestContext, waitFor } from '../helpers';
import { useWorkerProcesses, type WorkerProcess } from '../worker-harness';
import { freePort, ownRedis, type OwnRedis } from './redis-server';

const ctx = createTestContext();
const startWorker = useWorkerProcesses(ctx);

let own: OwnRedis | undefined;
let receiver: http.Server | undefined;

afterEach(async () => {
  await own?.close();
  own = undefined;
  receiver?.closeAllConnections();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

afterAll(async () => {
  await ctx.cleanup();
});

const GRACE_MS = 1000;
/** Room for a loaded machine between the deadline and the exit being seen here. */
const MARGIN_MS = 5000;

/** The exit code, or 'still running' once `ms` have passed. */
async function exitWithin(p: WorkerProcess, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([p.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

const connectionError = (l: Record<string, unknown>) => /ECONNREFUSED/.test(String(l.err));

/** The job that `queue` (sleep's, or the shard the API would pick) holds as `id`, added straight to BullMQ on `url`. */
async function addStraight(url: string, type: string, id: string, data: object): Promise<void> {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  const name = ctx.keys.queueOf(type, id);
  const queue = new Queue(name, { connection: conn, prefix: ctx.keys.prefixOf(name) });
  try {
    await queue.add(type, data, { jobId: id });
    await waitFor(async () => (await conn.llen(`${ctx.keys.prefixOf(name)}:${name}:active`)) === 1, 10_000);
  } finally {
    await queue.close();
    conn.disconnect();
  }
}

describe('a worker whose Redis is not there', () => {
  it('closes at once on SIGINT and exits 0 (nothing ran), having logged its reconnect errors a few times, not each time', async () => {
    const w = startWorker({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, SHUTDOWN_GRACE_MS: String(GRACE_MS) });
    await w.line(connectionError);
    // Every connection (BullMQ's, the listeners', ours) fails on each reconnect, several times a
    // second; they are one line, then a summary with their count.
    const summary = await w.line((l) => l.msg === 'redis connection errors continue');
    w.kill('SIGINT');

    expect(await exitWithin(w, GRACE_MS + CLOSE_ALLOWANCE_MS + MARGIN_MS)).toBe(0);
    expect(w.lines.find((l) => l.msg === 'worker shutting down')).toMatchObject({ signal: 'SIGINT' });
    // It closed everything it had opened, rather than being cut off at the deadline.
    expect(w.lines.find((l) => l.msg === 'worker stopped')).toMatchObject({ abandoned: 0, unrecorded: 0 });
    expect(w.lines.some((l) => String(l.msg).startsWith('shutdown did not finish'))).toBe(false);
    expect(summary.count).toBeGreaterThan(1);
    expect(w.lines.filter(connectionError).length).toBeLessThanOrEqual(4);
  });
});

describe('a worker whose Redis stops under it', () => {
  it('hands back a job still running when the grace period ends, and exits 1 having closed everything', async () => {
    own = await ownRedis();
    const w = startWorker({ REDIS_URL: own.url, SHUTDOWN_GRACE_MS: String(GRACE_MS), WORKER_TYPES: 'sleep' });
    await w.line((l) => l.msg === 'worker ready');
    await addStraight(own.url, 'sleep', 'long-1', { ms: 60_000 });

    await own.stop('kill');
    await w.line(connectionError);
    w.kill('SIGINT');

    expect(await exitWithin(w, GRACE_MS + CLOSE_ALLOWANCE_MS + MARGIN_MS)).toBe(1);
    expect(w.lines.find((l) => l.msg === 'worker shutting down')).toMatchObject({ signal: 'SIGINT' });
    expect(w.lines.some((l) => String(l.msg).startsWith('grace period over'))).toBe(true);
    // The move back to its queue could not be made: the job is stall recovery's once Redis is back.
    expect(w.lines.find((l) => l.msg === 'worker stopped')).toMatchObject({ abandoned: 1, unrecorded: 0 });
    expect(w.lines.some((l) => String(l.msg).startsWith('shutdown did not finish'))).toBe(false);
  });

  it('exits 1 when a job ends within the grace period but Redis is still away to record it', async () => {
    own = await ownRedis();
    // A receiver that answers only when told: the job is under way until then, and writes nothing meanwhile.
    let answer = () => {};
    const asked = new Promise<void>((resolveAsked) => {
      receiver = http.createServer((_req, res) => {
        answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        resolveAsked();
      });
    });
    const port = await new Promise<number>((resolve) => receiver!.listen(0, '127.0.0.1', () => resolve((receiver!.address() as AddressInfo).port)));
    const w = startWorker({
      REDIS_URL: own.url,
      SHUTDOWN_GRACE_MS: '20000',
      WORKER_TYPES: 'http.request',
      HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}`,
    });
    await w.line((l) => l.msg === 'worker ready');
    await addStraight(own.url, 'http.request', 'held-1', { url: `http://127.0.0.1:${port}/slow` });
    await asked;

    await own.stop('kill');
    await w.line(connectionError);
    w.kill('SIGINT');
    await w.line((l) => l.msg === 'worker shutting down');
    answer();

    // Its end waits unsent for a Redis that is not there: the job runs again after stall recovery.
    expect(await exitWithin(w, 20_000 + CLOSE_ALLOWANCE_MS + MARGIN_MS)).toBe(1);
    expect(w.lines.find((l) => l.msg === 'worker stopped')).toMatchObject({ abandoned: 0, unrecorded: 1 });
    expect(w.lines.some((l) => String(l.msg).startsWith('Redis is away: the ends of attempts'))).toBe(true);
    expect(w.lines.some((l) => String(l.msg).startsWith('grace period over'))).toBe(false);
  });
});
