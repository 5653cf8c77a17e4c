import { afterAll, describe, expect, it } from 'vitest';
import { call } from '../api-harness';
import { createTestContext, waitFor } from '../helpers';
import { spawnWorker, type WorkerProcess } from '../worker-harness';
import { spawnApi, type ApiProcess } from './api-process';
import { writeFigures } from './figures';
import { ownRedis, type OwnRedis } from './redis-server';

const ctx = createTestContext();
let redis: OwnRedis | undefined;
let api: ApiProcess | undefined;
let worker: WorkerProcess | undefined;

afterAll(async () => {
  for (const p of [api, worker]) {
    p?.kill('SIGKILL');
    await p?.exited;
  }
  await redis?.close();
  await ctx.cleanup();
});

describe('Redis not there when the processes start', () => {
  it('starts API and worker anyway, reports not ready, and both become ready once Redis appears', async () => {
    redis = await ownRedis({ startNow: false });
    const env = { REDIS_URL: redis.url, REDIS_CLUSTER_NODES: '', LIST_LISTENER: 'false', PUBSUB_LISTENER: 'false' };
    api = await spawnApi(ctx, env);
    worker = spawnWorker(ctx, { ...env, WORKER_TYPES: 'echo,sleep' });

    await api.listening;
    expect((await call(api.url, 'GET', '/healthz')).status).toBe(200);
    const notReady = await call(api.url, 'GET', '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.error.code).toBe('unavailable');
    const refused = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { early: true } });
    expect(refused.status).toBe(503);
    // The worker says why it waits, and waits: it neither exits nor claims to be ready.
    await worker.line((l) => /ECONNREFUSED/.test(String(l.err)));
    expect(worker.child.exitCode).toBeNull();
    expect(worker.lines.some((l) => l.msg === 'worker ready')).toBe(false);

    await redis.start();
    await waitFor(async () => (await call(api!.url, 'GET', '/readyz')).status === 200, 15000, 100);
    await worker.line((l) => l.msg === 'worker ready', 20000);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 50 } });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }
    const done = await Promise.all(ids.map((id) => call(api!.url, 'GET', `/jobs/${id}/result?wait=20`)));
    expect(done.map((r) => r.body.state)).toEqual(ids.map(() => 'completed'));

    writeFigures('redis-late', {
      fault: 'Redis unreachable when API and worker start',
      injected: 1,
      accepted: ids.length,
      completed: done.filter((r) => r.body.state === 'completed').length,
      lost: ids.length - done.filter((r) => r.body.state === 'completed').length,
    });
  }, 60000);
});
