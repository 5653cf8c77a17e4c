/**
 * How a drain spreads over a Redis Cluster's masters (docs/scaling-out.md, "Measured").
 *
 *   CLUSTER=127.0.0.1:7241,127.0.0.1:7242,127.0.0.1:7243 npx tsx bench/cluster-spread.ts [jobs] [layout...]
 *
 * For each layout (`one`: today's, every queue under one hash tag; `shards`: echo in 3
 * shards, each in a group whose tag is on another master), one API process and two
 * worker processes on the cluster: `jobs` echo jobs are submitted through POST /jobs/batch
 * (1000 a request) while the workers drain them. Per master, the deltas of INFO stats
 * (total_commands_processed) and INFO cpu (used_cpu_sys + used_cpu_user) from the first
 * submit to the last completion (submits, workers, API stream readers and relay), and jobs/s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { keySlot } from '@async-jobs/shared';
import { Redis } from 'ioredis';

const nodes = (process.env.CLUSTER ?? '127.0.0.1:7241,127.0.0.1:7242,127.0.0.1:7243').split(',');
const jobs = Number(process.argv[2] ?? 20000);
const layouts = process.argv.slice(3).length > 0 ? process.argv.slice(3) : ['one', 'shards'];
const NS = 'spread';

/** Group names whose hash tag `{spread:aj:<name>}` falls in each master's slot range, so each shard sits on another master. */
async function groupsPerMaster(): Promise<string> {
  const probe = new Redis(Number(nodes[0].split(':')[1]), nodes[0].split(':')[0]);
  const slots = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  await probe.quit();
  const names: string[] = [];
  for (const [from, to] of slots.sort((a, b) => a[0] - b[0])) {
    for (let i = 0; ; i++) {
      const s = keySlot(`{${NS}:aj:m${i}}`);
      if (s >= from && s <= to && !names.includes(`m${i}`)) {
        names.push(`m${i}`);
        break;
      }
    }
  }
  return names.map((n, k) => `${n}=echo~${k + 1}`).join(';');
}

interface Sample {
  commands: number;
  cpu: number;
}
const masters = nodes.map((n) => new Redis(Number(n.split(':')[1]), n.split(':')[0]));
async function sample(): Promise<Sample[]> {
  return Promise.all(
    masters.map(async (m) => {
      const info = await m.info();
      const num = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
      return { commands: num('total_commands_processed'), cpu: num('used_cpu_sys') + num('used_cpu_user') };
    }),
  );
}

function start(script: string, env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(ready)) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}: ${out.slice(-500)}`)));
  });
}

async function run(layout: string) {
  const env: Record<string, string> = {
    REDIS_CLUSTER_NODES: nodes.join(','),
    KEY_NAMESPACE: NS,
    LOG_LEVEL: 'warn',
    QUEUE_GROUPS: layout === 'shards' ? await groupsPerMaster() : '',
    QUEUE_SHARDS: layout === 'shards' ? 'echo=3' : '',
  };
  const port = String(3900 + Math.floor(Math.random() * 90));
  const api = await start('apps/api/src/main.ts', { ...env, PORT: port, LOG_LEVEL: 'info' }, 'api listening');
  const url = `http://127.0.0.1:${port}`;
  // WORKER_CONCURRENCY is per queue: 30 for the one queue, 10 for each of 3 shards, the same 30 slots per process.
  const workerEnv = {
    ...env,
    WORKER_TYPES: 'echo',
    WORKER_CONCURRENCY: layout === 'shards' ? '10' : '30',
    LOG_LEVEL: 'info',
    LIST_LISTENER: 'false',
    PUBSUB_LISTENER: 'false',
  };
  const workers = await Promise.all([1, 2].map(() => start('apps/worker/src/main.ts', workerEnv, 'worker ready')));
  try {
    while ((await fetch(`${url}/readyz`).catch(() => null))?.status !== 200) await new Promise((r) => setTimeout(r, 100));
    const before = await sample();
    const t0 = performance.now();
    // Submitted in batches of 1000 while the workers drain: every Redis command of the jobs' lives.
    for (let i = 0; i < jobs; i += 1000) {
      const r = await fetch(`${url}/jobs/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jobs: Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({ type: 'echo', data: { n: i + k } })) }),
      });
      if (r.status !== 202) throw new Error(`batch: ${r.status} ${await r.text()}`);
    }
    {
      // Done when the metrics (BullMQ's counts, all shards summed) say every job completed and nothing waits; asked 4 times a second.
      for (;;) {
        const m = await (await fetch(`${url}/metrics`)).text();
        const left = [...m.matchAll(/^asyncjobs_queue_jobs\{type="echo",state="(waiting|active|prioritized)"\} (\d+)/gm)].reduce((n, x) => n + Number(x[2]), 0);
        const done = /^asyncjobs_queue_jobs\{type="echo",state="completed"\} (\d+)/m.exec(m)?.[1];
        if (left === 0 && Number(done) >= jobs) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const seconds = (performance.now() - t0) / 1000;
      const after = await sample();
      const commands = after.map((a, i) => a.commands - before[i].commands);
      const cpu = after.map((a, i) => a.cpu - before[i].cpu);
      const total = commands.reduce((a, b) => a + b, 0);
      console.log(
        JSON.stringify({
          layout,
          groups: env.QUEUE_GROUPS || '(default)',
          jobs,
          seconds: +seconds.toFixed(2),
          jobsPerSecond: Math.round(jobs / seconds),
          perMaster: nodes.map((n, i) => ({
            node: n,
            commands: commands[i],
            share: +(commands[i] / total).toFixed(3),
            cpuSeconds: +cpu[i].toFixed(2),
            cpuPerJobUs: Math.round((cpu[i] * 1e6) / jobs),
          })),
        }),
      );
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
    api.kill('SIGTERM');
    await new Promise((r) => (api.exitCode !== null ? r(null) : api.once('exit', r)));
  }
  // Remove what this run wrote (its namespace only), so the next layout starts empty.
  for (const m of masters) {
    for (const pattern of [`{${NS}:*`, `${NS}:*`]) {
      let cursor = '0';
      do {
        const [next, batch] = await m.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const k of batch) await m.unlink(k);
      } while (cursor !== '0');
    }
  }
}

try {
  for (const l of layouts) await run(l);
} finally {
  for (const m of masters) m.disconnect();
}
