import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { Bench, Figure } from '../lib/bench';

const run = promisify(execFile);

/** A Python that can import `modules`: the PATH's, else Debian's own (where python3-celery / python3-rq install). */
function pythonWith(modules: string): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', `import ${modules}`], { stdio: 'ignore' });
      return py;
    } catch {
      // not this one
    }
  }
  return null;
}

const PEERS = {
  celery: {
    label: 'Celery',
    modules: 'celery, redis',
    script: 'bench/peers/celery_bench.py',
    maxDrain: 5000,
    extra: ['10'],
    how: 'delay().get()',
    drainHow: 'prefork worker, 10 processes',
  },
  rq: {
    label: 'RQ',
    modules: 'rq, redis',
    script: 'bench/peers/rq_bench.py',
    maxDrain: 2000,
    extra: [],
    how: 'enqueue + poll status every 0.5 ms',
    drainHow: 'one SimpleWorker',
  },
} as const;

/**
 * Celery and RQ on the bench's Redis (other db numbers), when their Debian packages are
 * installed; each peer script runs its own worker and prints one JSON line. Baselines are
 * ours from the same run: one-request latency and the c10 drain with the worker alone.
 */
export async function measurePeers(b: Bench, ours: Record<string, Figure>): Promise<Record<string, Figure>> {
  const out: Record<string, Figure> = {};
  for (const [name, p] of Object.entries(PEERS)) {
    const py = pythonWith(p.modules);
    if (!py) {
      b.log(`  ${p.label}: skipped (python3 cannot import ${p.modules}; apt-get install python3-${name})`);
      continue;
    }
    const drainN = Math.min(b.args.drainJobs, p.maxDrain);
    const { stdout } = await run(py, [p.script, b.redis.url, String(b.args.e2eCount), String(drainN), ...p.extra], { timeout: 600000 });
    const r = JSON.parse(stdout.trim().split('\n').pop() as string) as { p50: number; p95: number; p99: number; drainRate: number };
    b.log(`  ${p.label}: ${p.how} p50 ${r.p50} p95 ${r.p95} p99 ${r.p99} ms; drain ${r.drainRate} jobs/s (${drainN} jobs, ${p.drainHow})`);
    const one = ours.oneRequestP50?.value ?? null;
    const drain = ours.drainC10?.value ?? null;
    out[`${name}P50`] = {
      value: r.p50,
      unit: 'ms',
      baseline: one,
      baselineName: `ours: POST /jobs?wait=5 p50 (peer: ${p.label} ${p.how})`,
      runs: [{ ...r, value: r.p50, baseline: one }],
    };
    out[`${name}Drain`] = {
      value: r.drainRate,
      unit: 'jobs/s',
      baseline: drain,
      baselineName: `ours: drain c10, worker alone (peer: ${p.label}, ${p.drainHow}, ${drainN} jobs)`,
      runs: [{ ...r, value: r.drainRate, baseline: drain }],
    };
  }
  return out;
}
