import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestContext } from './helpers';
import { spawnWorker, type WorkerProcess } from './worker-harness';

const ctx = createTestContext();
const children: WorkerProcess[] = [];

function start(env: Record<string, string>) {
  const w = spawnWorker(ctx, env);
  children.push(w);
  return w;
}

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await c.exited;
  }
});

afterAll(async () => {
  await ctx.cleanup();
});

describe('worker startup', () => {
  it('exits 2 naming the unknown type when WORKER_TYPES has one', async () => {
    const w = start({ WORKER_TYPES: 'echo,frobnicate' });
    expect(await w.exited).toBe(2);
    expect(w.stderr()).toMatch(/WORKER_TYPES: unknown job type "frobnicate"/);
    expect(w.lines.some((l) => l.msg === 'worker ready')).toBe(false);
  });

  it('exits 2 with the reason when the configuration is invalid', async () => {
    const w = start({ WORKER_CONCURRENCY: '0' });
    expect(await w.exited).toBe(2);
    expect(w.stderr()).toMatch(/WORKER_CONCURRENCY/);
  });

  it('logs "worker ready" with its types and concurrency, never the Redis password', async () => {
    const url = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    // A password on a Redis that has none is only a warning for the client, so the worker still starts.
    if (!url.password) url.password = 'hunter2-secret';
    const w = start({ REDIS_URL: url.toString(), WORKER_CONCURRENCY: '3', WORKER_TYPES: 'echo,hash' });
    const ready = await w.line((l) => l.msg === 'worker ready');
    expect(ready).toMatchObject({ types: ['echo', 'hash'], concurrency: 3 });
    expect(ready.redis).toContain('***');
    w.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(JSON.stringify(w.lines) + w.stderr()).not.toContain(url.password);
  });
});
