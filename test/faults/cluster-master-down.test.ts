import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keySlot } from '../../packages/shared/src/key-slot';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from '../api-harness';
import { createTestContext, waitFor } from '../helpers';
import { freePort } from './redis-server';

/*
 * A 3-master Redis Cluster of this file's own (scripts/cluster-up.sh on free ports), one of
 * whose masters is shut down: what the API says while the cluster cannot serve.
 */
const ctx = createTestContext();
const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aj-cluster-'));
let ports: number[] = [];
let api: RunningApi;
const script = (name: string) =>
  execFileSync('bash', [join(root, 'scripts', name)], { env: { ...process.env, CLUSTER_PORTS: ports.join(' '), CLUSTER_DIR: dir }, stdio: 'ignore' });

beforeAll(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  script('cluster-up.sh');
  api = await startApi(ctx, { REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') });
}, 60000);

afterAll(async () => {
  await api?.close();
  if (ports.length > 0) script('cluster-down.sh');
  rmSync(dir, { recursive: true, force: true });
  await ctx.cleanup();
}, 60000);

/** The port of the master serving `key`'s slot. */
async function masterOf(key: string): Promise<number> {
  const node = new Redis(ports[0]);
  try {
    const slots = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const slot = keySlot(key);
    return slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
  } finally {
    node.disconnect();
  }
}

describe('a Redis Cluster with a master down', () => {
  it('is not ready (503) while any master does not answer, and answers reads 503, not 500', async () => {
    const submitted = await call(api.url, 'POST', '/jobs', { type: 'echo', data: { n: 1 } });
    expect(submitted.status).toBe(202);
    expect((await call(api.url, 'GET', '/readyz')).status).toBe(200);

    const port = await masterOf(ctx.keys.job('echo', submitted.body.id));
    execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });

    // At once, and for as long as it is down (ioredis drops the dead master's connection: a probe
    // that asked only the connections it holds said ready again).
    for (let i = 0; i < 12; i++) {
      const ready = await call(api.url, 'GET', '/readyz');
      expect(ready.status, `probe ${i}`).toBe(503);
      expect(ready.body.error.code).toBe('unavailable');
      await new Promise((r) => setTimeout(r, 250));
    }
    // Whatever the cluster's own view is by then (it marks the node failed after its timeout).
    await waitFor(async () => {
      const read = await call(api.url, 'GET', `/jobs/${submitted.body.id}`);
      expect(read.status, JSON.stringify(read.body)).not.toBe(500);
      return read.status === 503;
    }, 20000);
  }, 60000);
});
