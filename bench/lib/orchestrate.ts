import { measureBatchSubmit } from '../figures/batch-submit';
import { measureDrain, type DrainOutcome } from '../figures/drain';
import { measureE2e } from '../figures/e2e';
import { measureMemory, type RssNotes } from '../figures/memory';
import { measurePeers } from '../figures/peers';
import { measureResumes } from '../figures/resumes';
import { measureSoak } from '../figures/soak';
import { measureSubmit } from '../figures/submit';
import { measureWaiters } from '../figures/waiters';
import type { Bench, Figure } from './bench';
import type { Child } from './child';
import { startBaseline, startOurApi, startOurWorker, type RunningApi } from './ours';

/**
 * Runs the asked-for figures in an order that starts each process as few times as it can:
 * the API alone for the submit figures, then our worker and the bare one at concurrency
 * 10 (drain with no API of ours running, then e2e, memory and resumes with it) and at 50 (drain,
 * waiters), then the soak (an API and a worker of its own) and the optional peers with
 * nothing of ours running. The drain and waiter
 * figures start API processes of their own. Every process is stopped before this
 * returns, also on failure.
 */
export async function runFigures(b: Bench): Promise<Record<string, Figure>> {
  const { parts } = b.args;
  const figures: Record<string, Figure> = {};
  const rss: RssNotes = {};
  const open: Child[] = [];
  const step = (name: string) => b.log(`${name} ...`);
  const stopAll = async () => {
    await Promise.allSettled(
      open
        .splice(0)
        .reverse()
        .map((c) => c.stop()),
    );
  };
  const stop = async (...cs: (Child | null | undefined)[]) => {
    for (const c of cs) if (c && open.includes(c)) open.splice(open.indexOf(c), 1);
    await Promise.all(cs.map((c) => c?.stop()));
  };
  let api: RunningApi | undefined;
  const needApi = async () => {
    if (!api) {
      api = await startOurApi(b.env);
      open.push(api);
    }
    return api;
  };
  // The drain's "worker alone" figures need no API of ours running.
  const dropApi = async () => {
    await stop(api);
    api = undefined;
  };
  const drain = async (c: 10 | 50, ours: Child, bare: Child) => {
    step(`drain, concurrency ${c} (alone, with an API, with an API and a subscriber)`);
    const d: DrainOutcome = await measureDrain(b, c, ours, bare);
    figures[`drainC${c}`] = d.figures.alone;
    figures[`drainC${c}Api`] = d.figures.api;
    figures[`drainC${c}ApiSub`] = d.figures.apiSub;
    return d;
  };
  try {
    if (parts.has('submit')) {
      step('submit');
      const s = await measureSubmit(b, await needApi());
      figures.submit = s.figure;
      rss.apiRssIdleMB = s.apiRssIdleMB;
      rss.apiRssSubmitMB = s.apiRssSubmitMB;
    }
    if (parts.has('batchSubmit')) {
      step('batch submit');
      figures.batchSubmit = await measureBatchSubmit(b, await needApi());
    }
    await b.redis.client.flushall();

    if (parts.has('drain') || parts.has('e2e') || parts.has('memory') || parts.has('resumes')) {
      const needBare = parts.has('drain') || parts.has('e2e');
      const [ours, bare] = await Promise.all([
        startOurWorker(b.env, 10),
        needBare ? startBaseline(b.env, 'bare-worker-c10', 'bench/baselines/bare-worker.ts', { CONCURRENCY: '10' }) : null,
      ]);
      open.push(ours, ...(bare ? [bare] : []));
      if (parts.has('drain')) {
        await dropApi();
        const d = await drain(10, ours, bare as Child);
        rss.workerRssIdleMB = d.workerRssIdleMB;
        rss.workerRssDrainMB = d.workerRssDrainMB;
      }
      if (parts.has('e2e')) {
        step('end-to-end latency');
        Object.assign(figures, await measureE2e(b, await needApi()));
      }
      if (parts.has('memory')) {
        step('memory');
        figures.memory = await measureMemory(b, await needApi(), rss);
      }
      if (parts.has('resumes')) {
        step('event-stream resumes');
        figures.resumes = await measureResumes(b, await needApi());
      }
      await stop(ours, bare);
    }

    if (parts.has('drain') || parts.has('waiters')) {
      await dropApi();
      const [ours, bare] = await Promise.all([
        startOurWorker(b.env, 50),
        parts.has('drain') ? startBaseline(b.env, 'bare-worker-c50', 'bench/baselines/bare-worker.ts', { CONCURRENCY: '50' }) : null,
      ]);
      open.push(ours, ...(bare ? [bare] : []));
      if (parts.has('drain')) await drain(50, ours, bare as Child);
      if (parts.has('waiters')) {
        step(`waiters (${b.args.waiters} long-polls)`);
        figures.waiters = await measureWaiters(b);
      }
      await stop(ours, bare);
    }
    if (parts.has('soak')) {
      await dropApi();
      step(`soak (${b.args.soakRounds} rounds of mixed requests)`);
      figures.soak = await measureSoak(b);
    }
    if (parts.has('peers')) {
      await dropApi();
      step('peers (Celery, RQ), when installed');
      Object.assign(figures, await measurePeers(b, figures));
    }
    return figures;
  } finally {
    await stopAll();
  }
}
