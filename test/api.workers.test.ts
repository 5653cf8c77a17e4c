import { hostname } from 'node:os';
import { Worker } from 'bullmq';
import { describe, expect, it, onTestFinished } from 'vitest';
import { call } from './api-harness';
import { testRedis, waitFor } from './helpers';
import { useApi } from './system-harness';
import { useWorkerProcesses, type WorkerProcess } from './worker-harness';

/**
 * GET /workers (docs/http-api.md "GET /workers"): worker processes as `npm run start:worker` runs them,
 * listed from BullMQ's worker registry. Each test's processes are SIGKILLed after it.
 */
const sys = useApi();
const spawn = useWorkerProcesses(sys.ctx);
// The seed listeners are not what this file is about.
const quiet = { LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' };

interface Listed {
  id: string;
  host: string;
  pid: number | null;
  types: string[];
  concurrency: number | null;
  startedAt: string;
  lastSeenAt: string;
  running: number | null;
}

async function listed(): Promise<Listed[]> {
  const r = await call(sys.api.url, 'GET', '/workers');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.workers;
}
const ofPid = async (p: WorkerProcess) => (await listed()).find((w) => w.pid === p.child.pid);

async function started(env: Record<string, string>) {
  const p = spawn({ ...quiet, ...env });
  // Generous: a worker's start (tsx compiling it) is slow on a busy machine.
  await p.line((l) => l.msg === 'worker ready', 120000);
  return p;
}

/** Polls until the worker is no longer listed; the bound is generous, not the contract's 30 s. */
const untilGone = (p: WorkerProcess, ms: number) => waitFor(async () => !(await ofPid(p)), ms, 250);

// Each test starts worker processes; on a loaded machine that alone can take a minute.
describe('GET /workers', { timeout: 240000 }, () => {
  it('lists each worker process once, with its host, pid, the types it serves and its concurrency', async () => {
    const before = Date.now();
    const [a, b] = await Promise.all([started({ WORKER_TYPES: 'sleep,echo', WORKER_CONCURRENCY: '3' }), started({ WORKER_TYPES: 'hash' })]);
    const workers = await listed();
    expect(workers.map((w) => w.pid).sort()).toEqual([a.child.pid, b.child.pid].sort());
    const wa = workers.find((w) => w.pid === a.child.pid)!;
    const wb = workers.find((w) => w.pid === b.child.pid)!;
    expect(wa).toMatchObject({ host: hostname(), types: ['echo', 'sleep'], concurrency: 3, running: 0 });
    expect(wb).toMatchObject({ host: hostname(), types: ['hash'], concurrency: 10, running: 0 });
    expect(wa.id).not.toBe(wb.id);
    for (const w of [wa, wb]) {
      expect(Date.parse(w.startedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(w.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(w.startedAt));
    }
  });

  it('counts the jobs a worker runs now', async () => {
    const [a, b] = await Promise.all([started({ WORKER_TYPES: 'sleep' }), started({ WORKER_TYPES: 'echo' })]);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await call(sys.api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 60000 } })).body.id);
    await waitFor(async () => (await ofPid(a))?.running === 2, 20000, 100);
    expect((await ofPid(b))?.running).toBe(0);
    // The id of a worker is the processedBy of the jobs it runs, as Bull Board shows it.
    const worker = (await ofPid(a))!;
    const job = await sys.api.context.queues.get(sys.ctx.keys.queueOf('sleep', ids[0]))!.getJob(ids[0]);
    expect(job?.processedBy).toBe(worker.id);
    for (const id of ids) expect((await call(sys.api.url, 'DELETE', `/jobs/${id}`)).status).toBe(202);
    await waitFor(async () => (await ofPid(a))?.running === 0, 20000, 100);
  });

  it('drops a worker killed with SIGKILL', async () => {
    const [a, b] = await Promise.all([started({ WORKER_TYPES: 'sleep' }), started({ WORKER_TYPES: 'sleep' })]);
    expect(await ofPid(a)).toBeDefined();
    a.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    await untilGone(a, 60000);
    expect(await ofPid(b)).toBeDefined();
  });

  it('drops a worker stopped gracefully as soon as it has exited', async () => {
    const a = await started({ WORKER_TYPES: 'echo' });
    expect(await ofPid(a)).toBeDefined();
    a.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    // It deleted its heartbeat on the way out: no waiting for anything to lapse.
    expect(await ofPid(a)).toBeUndefined();
  });

  it('drops a worker whose connections stay open but which is no longer heard from (a machine gone), by its heartbeat', async () => {
    const a = await started({ WORKER_TYPES: 'echo' });
    const id = (await ofPid(a))!.id;
    // Frozen, the process keeps its sockets: the kernel closes nothing, as with a machine that vanished.
    a.kill('SIGSTOP');
    onTestFinished(() => a.kill('SIGKILL'));
    await untilGone(a, 60000);
    // BullMQ's registry still has its connection: it is the heartbeat that took it off the list.
    const registry = await sys.api.context.queues.get(sys.ctx.keys.queuesOf('echo')[0])!.getWorkers();
    expect(registry.some((c) => c.rawname?.endsWith(`:w:${id}`))).toBe(true);
  });

  it('lists another BullMQ worker with what its connection tells', async () => {
    const connection = testRedis({ maxRetriesPerRequest: null });
    const { prefixOf } = sys.ctx.keys;
    // echo's (first) queue: with QUEUE_SHARDS its shards are the queues, not `echo`.
    const [echoQueue] = sys.ctx.keys.queuesOf('echo');
    const named = new Worker(echoQueue, async () => ({}), { connection, prefix: prefixOf(echoQueue), name: 'py-worker-1' });
    const unnamed = new Worker('hash', async () => ({}), { connection, prefix: prefixOf('hash') });
    onTestFinished(async () => {
      await Promise.all([named.close(), unnamed.close()]);
      connection.disconnect();
    });
    await Promise.all([named.waitUntilReady(), unnamed.waitUntilReady()]);
    const workers = await listed();
    expect(workers.find((w) => w.id === 'py-worker-1')).toMatchObject({ pid: null, concurrency: null, types: ['echo'], running: 0 });
    const other = workers.find((w) => w.types.includes('hash'));
    expect(other).toMatchObject({ pid: null, concurrency: null, running: null });
    expect(other!.host).toMatch(/^\d+\.\d+\.\d+\.\d+$|:/);
  });
});
