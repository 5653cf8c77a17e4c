import { spawn } from 'node:child_process';
import { seedListeners } from '@async-jobs/seed';
import { closeRedis, createLogger, createRedis } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type JobWorker } from '../apps/worker/src/worker';
import { startApi, type RunningApi } from './api-harness';
import { freePort } from './faults/redis-server';
import { createTestContext } from './helpers';

const ctx = createTestContext();
const root = new URL('..', import.meta.url).pathname;
let api: RunningApi;
let worker: JobWorker;
const connection = createRedis(ctx.config(), 'blocking');
const redis = createRedis(ctx.config(), 'blocking');

beforeAll(async () => {
  api = await startApi(ctx);
  const config = ctx.config();
  worker = createWorker({ config, connection, redis, logger: createLogger('worker', 'silent'), listeners: seedListeners(config) });
  await worker.ready();
});

afterAll(async () => {
  await api?.close();
  await worker?.close({ graceMs: 2000 });
  await Promise.all([closeRedis(connection), closeRedis(redis)]);
  await ctx.cleanup();
});

/** `npm run load -- ...` as a user runs it; resolves with its exit code and output. */
function runLoad(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'load', '--', ...args], { cwd: root, env: ctx.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The table's row for one route, as numbers by column name. */
function row(stdout: string, label: string): Record<string, number> {
  const lines = stdout.split('\n');
  const head = lines
    .find((l) => l.startsWith('route'))!
    .trim()
    .split(/\s{2,}/);
  const cells = lines
    .find((l) => l.startsWith(label))!
    .slice(label.length)
    .trim()
    .split(/\s+/)
    .map(Number);
  return Object.fromEntries(head.slice(1).map((h, i) => [h, cells[i]]));
}

describe('npm run load', () => {
  it('loads the three routes, prints a table per route, and finds nothing lost', async () => {
    const { code, stdout, stderr } = await runLoad(['--url', api.url, '--concurrency', '2', '--reps', '3', '--verify-timeout', '20']);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^route\s+requests\s+req\/s\s+p50 ms\s+p99 ms\s+2xx\/3xx\s+non-2xx\/3xx\s+errors$/m);
    for (const label of ['GET /prodcons', 'GET /pubsub', 'POST /jobs (echo)']) {
      const r = row(stdout, label);
      expect(r, label).toMatchObject({ requests: 6, '2xx/3xx': 6, 'non-2xx/3xx': 0, errors: 0 });
      expect(r['req/s'], label).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/^jobs: 6 accepted, 6 completed$/m);
    expect(stdout).toMatch(/list \S+task:prodcons:queue: drained/);
    expect(stdout).toMatch(/^lost: 0$/m);
    expect(code).toBe(0);
    // Checked independently of the script: the list listener took all six elements.
    expect(await ctx.redis.llen(ctx.keys.prodconsList)).toBe(0);
  });

  it('exits non-zero when requests fail, e.g. with a wrong token against an API that needs one', async () => {
    const guarded = await startApi(ctx, { API_TOKENS: 'right' });
    try {
      const { code, stdout } = await runLoad(['--url', guarded.url, '-c', '1', '-r', '1', '--token', 'wrong', '--verify-timeout', '5']);
      expect(row(stdout, 'GET /prodcons')).toMatchObject({ requests: 1, '2xx/3xx': 0, 'non-2xx/3xx': 1 });
      // Which status, and what it most likely means, not only a count.
      for (const label of ['GET /prodcons', 'GET /pubsub', 'POST /jobs (echo)'])
        expect(stdout).toContain(`${label}: 1 answered 401 (a wrong or missing --token?)`);
      expect(stdout).toMatch(/^failed requests: 3$/m);
      expect(code).toBe(1);
    } finally {
      await guarded.close();
    }
  });

  it('says "connection refused" where nothing listens, exits 1, and claims no result', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, stdout, stderr } = await runLoad(['--url', url, '-c', '1', '-r', '1', '--verify-timeout', '2']);
    expect(stderr).toContain(`connection refused at ${url}`);
    expect(stdout).not.toMatch(/lost:/);
    expect(code).toBe(1);
  });

  it('tells jobs no worker finished from lost ones, and exits 1', async () => {
    // An API on a namespace of its own, which no worker serves: its jobs stay queued, and its list is not drained.
    const idle = createTestContext();
    const idleApi = await startApi(idle);
    try {
      const { code, stdout } = await runLoad(['--url', idleApi.url, '--namespace', idle.namespace, '-c', '1', '-r', '2', '--verify-timeout', '2']);
      expect(stdout).toMatch(/^jobs: 2 accepted, 0 completed$/m);
      expect(stdout).toContain('not finished within 2 s: 2 (2 queued; is a worker running?)');
      expect(stdout).not.toMatch(/lost job/);
      expect(stdout).toMatch(/^lost: 0$/m);
      expect(stdout).toMatch(/^not done: 2 job\(s\), 2 list element\(s\)$/m);
      expect(code).toBe(1);
    } finally {
      await idleApi.close();
      await idle.cleanup();
    }
  });

  it('refuses a --redis-url that is no Redis URL as usage (exit 2), and names an unreachable one and why', async () => {
    const bad = await runLoad(['--url', api.url, '--redis-url', 'nope', '-c', '1', '-r', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--redis-url must be a redis:// or rediss:// URL, got 'nope'");
    const port = await freePort();
    const away = await runLoad(['--url', api.url, '--redis-url', `redis://127.0.0.1:${port}`, '-c', '1', '-r', '1', '--verify-timeout', '5']);
    expect(away.stdout).toContain(`list ${ctx.keys.prodconsList}: not checked, Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(away.code).toBe(1);
  });

  it('refuses a target that is not on this machine', async () => {
    const { code, stderr } = await runLoad(['--url', 'http://example.org/']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/loopback/);
  });
});
