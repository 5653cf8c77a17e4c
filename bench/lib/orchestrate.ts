import { measureBatchSubmit } from '../figures/batch-submit';
import { measureDrain, type DrainOutcome } from '../figures/drain';
import { measureE2e } from '../figures/e2e';
import { measureMemory, type RssNotes } from '../figures/memory';
import { measureSubmit } from '../figures/submit';
import { measureWaiters } from '../figures/waiters';
import type { Bench, Figure } from './bench';
import type { Child } from './child';
import { startBaseline, startOurApi, startOurWorker, type RunningApi } from './ours';

/**
 * Runs the asked-for figures in an order that starts each process once: the API for
 * everything, no worker during the submit figures (they measure the API alone), then
 * our worker and the bare one at concurrency 10 (drain, e2e, memory) and at 50 (drain,
 * waiters). Every process is stopped before this returns, also on failure.
 */
export async function runFigures(b: Bench): Promise<Record<string, Figure>> {
  const { parts } = b.args;
  const figures: Record<string, Figure> = {};
  const rss: RssNotes = {};
  const open: Child[] = [];
  const stopAll = async () => {
    await Promise.allSettled(open.splice(0).reverse().map((c) => c.stop()));
  };
  const step = (name: string) => b.log(`${name} ...`);
  try {
    const api: RunningApi = await startOurApi(b.env);
    open.push(api);

    if (parts.has('submit')) {
      step('submit');
      const s = await measureSubmit(b, api);
      figures.submit = s.figure;
      rss.apiRssIdleMB = s.apiRssIdleMB;
      rss.apiRssSubmitMB = s.apiRssSubmitMB;
    }
    if (parts.has('batchSubmit')) {
      step('batch submit');
      figures.batchSubmit = await measureBatchSubmit(b, api);
    }
    await b.redis.client.flushall();

    if (parts.has('drain') || parts.has('e2e') || parts.has('memory')) {
      const needBare = parts.has('drain') || parts.has('e2e');
      const [ours, bare] = await Promise.all([
        startOurWorker(b.env, 10),
        needBare ? startBaseline(b.env, 'bare-worker-c10', 'bench/baselines/bare-worker.ts', { CONCURRENCY: '10' }) : null,
      ]);
      open.push(ours, ...(bare ? [bare] : []));
      if (parts.has('drain')) {
        step('drain, concurrency 10');
        const d: DrainOutcome = await measureDrain(b, 10, ours, bare as Child);
        figures.drainC10 = d.figure;
        rss.workerRssIdleMB = d.workerRssIdleMB;
        rss.workerRssDrainMB = d.workerRssDrainMB;
      }
      if (parts.has('e2e')) {
        step('end-to-end latency');
        const e = await measureE2e(b, api);
        figures.e2eP50 = e.p50;
        figures.e2eP99 = e.p99;
      }
      if (parts.has('memory')) {
        step('memory');
        figures.memory = await measureMemory(b, api, rss);
      }
      await Promise.all([ours.stop(), bare?.stop()]);
      open.splice(open.indexOf(ours), 1);
      if (bare) open.splice(open.indexOf(bare), 1);
    }

    if (parts.has('drain') || parts.has('waiters')) {
      const [ours, bare] = await Promise.all([
        startOurWorker(b.env, 50),
        parts.has('drain') ? startBaseline(b.env, 'bare-worker-c50', 'bench/baselines/bare-worker.ts', { CONCURRENCY: '50' }) : null,
      ]);
      open.push(ours, ...(bare ? [bare] : []));
      if (parts.has('drain')) {
        step('drain, concurrency 50');
        figures.drainC50 = (await measureDrain(b, 50, ours, bare as Child)).figure;
      }
      if (parts.has('waiters')) {
        step(`waiters (${b.args.waiters} long-polls)`);
        figures.waiters = await measureWaiters(b);
      }
    }
    return figures;
  } finally {
    await stopAll();
  }
}
