import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext, enqueue, waitFor } from './helpers';
import { hasPromtool, parse, promtoolCheck, value } from './prometheus-text';
import { useWorkerProcesses } from './worker-harness';

const ctx = createTestContext();
const spawn = useWorkerProcesses(ctx);
afterAll(async () => {
  await ctx.cleanup();
});

const TOKEN = 'metrics-test-token';
const get = (port: number, path: string, token?: string) =>
  fetch(`http://127.0.0.1:${port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('a worker process with WORKER_METRICS_PORT', () => {
  it('serves its process and job figures, behind API_TOKENS, and closes the port on SIGTERM', async () => {
    const w = spawn({ WORKER_METRICS_PORT: '0', API_TOKENS: TOKEN, WORKER_TYPES: 'echo' });
    const { port } = await w.line((l) => l.msg === 'worker metrics listening');
    await w.line((l) => l.msg === 'worker ready');
    await enqueue(ctx, 'echo', { a: 1 });

    expect((await get(port, '/metrics')).status).toBe(401);
    expect((await get(port, '/metrics', 'wrong')).status).toBe(401);
    expect((await get(port, '/other', TOKEN)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);

    // The job ends in Redis a moment before the worker hears of it: read until the worker has observed it.
    const text = await waitFor(async () => {
      const r = await get(port, '/metrics', TOKEN);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const t = await r.text();
      return value(parse(t), 'asyncjobs_worker_run_seconds_count', { type: 'echo', outcome: 'completed' }) === 1 ? t : null;
    });
    const samples = parse(text);
    expect(value(samples, 'asyncjobs_worker_queue_wait_seconds_count', { type: 'echo' })).toBe(1);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name.startsWith('nodejs_active_') && s.name.endsWith('_total'))).toBe(false);
    if (hasPromtool) expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });

    w.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    await expect(get(port, '/metrics', TOKEN)).rejects.toThrow();
  });

  it('exits 1 with a sentence naming WORKER_METRICS_PORT when the port is taken', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const w = spawn({ WORKER_METRICS_PORT: String((taken.address() as AddressInfo).port) });
      expect(await w.exited).toBe(1);
      expect(w.stderr()).toMatch(/Cannot serve the worker's metrics on 127\.0\.0\.1:\d+: .*EADDRINUSE.*Choose another WORKER_METRICS_PORT/);
      expect(w.lines.some((l) => l.msg === 'worker ready')).toBe(false);
    } finally {
      taken.close();
    }
  });

  it('exits 2 when WORKER_METRICS_PORT is not a port', async () => {
    const w = spawn({ WORKER_METRICS_PORT: 'eighty' });
    expect(await w.exited).toBe(2);
    expect(w.stderr()).toMatch(/WORKER_METRICS_PORT/);
  });
});
