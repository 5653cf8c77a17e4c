import type { Bench, Figure } from '../lib/bench';
import { cannon, type CannonResult } from '../lib/cannon';
import type { RunningApi } from '../lib/ours';
import { startBaseline } from '../lib/ours';
import { freePort } from '../lib/free-port';
import { cpuMeter, rssMB, sampleRss } from '../lib/proc';
import { median, round } from '../lib/stats';

const body = { type: 'echo', data: { hello: 'world', n: 1 } };

export interface SubmitOutcome {
  figure: Figure;
  apiRssIdleMB: number;
  apiRssSubmitMB: number[];
}

/**
 * POST /jobs under autocannon, against our API and, in the same run, a bare Express
 * POST and an Express handler that only awaits queue.add. The order rotates per run so
 * that none always goes first; Redis is emptied before each.
 */
export async function measureSubmit(b: Bench, api: RunningApi): Promise<SubmitOutcome> {
  const { args } = b;
  const [barePort, addPort] = await Promise.all([freePort(), freePort()]);
  const [bare, add] = await Promise.all([
    startBaseline(b.env, 'express-bare', 'bench/baselines/express-server.ts', { MODE: 'bare', PORT: String(barePort) }),
    startBaseline(b.env, 'express-queue-add', 'bench/baselines/express-server.ts', { MODE: 'queue-add', PORT: String(addPort) }),
  ]);
  const targets = {
    bare: `http://127.0.0.1:${barePort}/jobs`,
    queueAdd: `http://127.0.0.1:${addPort}/jobs`,
    ours: `${api.url}/jobs`,
  } as const;
  const pids = { bare: bare.pid, queueAdd: add.pid, ours: api.pid };
  const apiRssIdleMB = rssMB(api.pid);
  const apiRssSubmitMB: number[] = [];
  try {
    if (!args.quick) for (const url of Object.values(targets)) await cannon(url, body, args.connections, 1); // JIT warm-up, not counted
    const runs = [];
    const names = Object.keys(targets) as (keyof typeof targets)[];
    for (let i = 0; i < args.runs; i++) {
      const got = {} as Record<keyof typeof targets, CannonResult>;
      const cpuPct = {} as Record<keyof typeof targets, Record<string, number>>;
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length];
        await b.redis.client.flushall();
        const rss = name === 'ours' ? sampleRss(api.pid) : null;
        const cpu = cpuMeter({ server: pids[name], redis: b.redis.child.pid, bench: process.pid });
        got[name] = await cannon(targets[name], body, args.connections, args.durationS);
        cpuPct[name] = cpu.stop();
        if (rss) apiRssSubmitMB.push(rss.stop());
      }
      if (got.ours.ok === 0 || got.ours.non2xx + got.ours.errors > 0) {
        throw new Error(`submit: our API answered ${got.ours.ok} 2xx, ${got.ours.non2xx} other, ${got.ours.errors} errors`);
      }
      const run = {
        value: round(got.ours.okPerSec, 1),
        baseline: round(got.bare.okPerSec, 1),
        ratio: round(got.ours.okPerSec / got.bare.okPerSec, 3),
        queueAddOnly: round(got.queueAdd.okPerSec, 1),
        queueAddOnlyRatio: round(got.queueAdd.okPerSec / got.bare.okPerSec, 3),
        oursP50Ms: got.ours.p50,
        oursP99Ms: got.ours.p99,
        // Percent of one core used by the server, Redis and the bench (autocannon) during each measurement.
        cpuPct,
        // Server CPU per answered request, in µs: hardly moved by other load on a shared machine.
        serverCpuUsPerReq: Object.fromEntries(names.map((n) => [n, Math.round((cpuPct[n].server * 1e4) / got[n].okPerSec)])),
      };
      b.log(
        `  submit run ${i + 1}: ours ${run.value} req/s, bare ${run.baseline}, queue.add-only ${run.queueAddOnly} (ratio ${run.ratio}); server cpu µs/req ${JSON.stringify(run.serverCpuUsPerReq)}`,
      );
      runs.push(run);
    }
    const figure: Figure = {
      value: median(runs.map((r) => r.value)),
      unit: 'req/s',
      baseline: median(runs.map((r) => r.baseline)),
      baselineName: 'bare Express 5 POST answering 202 JSON (express.json body parsing)',
      runs,
    };
    return { figure, apiRssIdleMB, apiRssSubmitMB };
  } finally {
    await Promise.all([bare.stop(), add.stop()]);
  }
}
