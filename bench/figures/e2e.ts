import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE, baseJobOptions } from '../baselines/job-options';
import type { Bench, Figure } from '../lib/bench';
import { freePort } from '../lib/free-port';
import { keepAlive, request, type Reply } from '../lib/http';
import { sequential, summary, type Summary } from '../lib/latency';
import { startBaseline, type RunningApi } from '../lib/ours';
import { median, round } from '../lib/stats';

const data = { hello: 'world', n: 1 };
/** The add-wait Express handler's queue (same prefix as the baselines). */
const ADD_WAIT_QUEUE = 'echo-http';
const body = { type: 'echo', data };

/** Throws unless `r` is `status` (and, for a job, a completed one); the time its last byte came. */
function expect(r: Reply, status: number, what: string, completed = false): number {
  if (r.status !== status || (completed && (JSON.parse(r.body) as { state: string }).state !== 'completed'))
    throw new Error(`e2e: ${what} answered ${r.status}: ${r.body}`);
  return r.doneAt;
}

/** `n` of one kind of request sequence on one keep-alive connection (the same client for all). */
async function overHttp(n: number, once: (agent: ReturnType<typeof keepAlive>) => Promise<number>): Promise<number[]> {
  const agent = keepAlive(1);
  try {
    return await sequential(n, () => once(agent));
  } finally {
    agent.destroy();
  }
}

/**
 * End-to-end latency, submit to result, one job at a time, our worker and the bare one
 * (same concurrency) both running. Four sequences, in an order that rotates per run:
 * - ours: POST /jobs, then GET /jobs/:id/result?wait=10 (two requests);
 * - one request: POST /jobs?wait=5, answered with the finished job;
 * - raw: queue.add + job.waitUntilFinished(QueueEvents), in-process, against the bare worker;
 * - trivial: a POST to the bare Express server (202, no Redis): what one keep-alive round
 *   trip from this client costs. HTTP sets the floors: raw + 2 of them for "POST then
 *   long-poll", raw + 1 for one request;
 * - add-wait: a POST to an Express handler that awaits queue.add and waitUntilFinished and
 *   answers 200 (express-server.ts, add-wait), against the bare worker: one request as a few
 *   lines around BullMQ give it, for reference beside ours.
 */
export async function measureE2e(b: Bench, api: RunningApi): Promise<Record<'e2eP50' | 'e2eP99' | 'e2eFloor' | 'oneRequestP50', Figure>> {
  // add-wait has a queue and a bare worker of its own: its QueueEvents, woken by every event
  // of the queue it follows, must not take CPU from raw's sequence (nor raw's from it).
  const express = async (name: string, extra: Record<string, string>) => {
    const port = await freePort();
    return { child: await startBaseline(b.env, name, 'bench/baselines/express-server.ts', { ...extra, PORT: String(port) }), port };
  };
  const started = await Promise.allSettled([
    express('express-bare-e2e', { MODE: 'bare' }),
    express('express-add-wait', { MODE: 'add-wait', QUEUE: ADD_WAIT_QUEUE }),
    startBaseline(b.env, 'bare-worker-add-wait', 'bench/baselines/bare-worker.ts', { CONCURRENCY: '10', QUEUE: ADD_WAIT_QUEUE }).then((child) => ({
      child,
      port: 0,
    })),
  ]);
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.child] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(children.map((c) => c.stop()));
    throw failed.reason;
  }
  const [port, waitPort] = started.map((s) => (s as PromiseFulfilledResult<{ port: number }>).value.port);
  const connection = new Redis(b.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  // QueueEvents blocks on XREAD: a connection of its own.
  const eventsConnection = new Redis(b.redis.url, { maxRetriesPerRequest: null });
  const events = new QueueEvents(BASE_QUEUE, { connection: eventsConnection, prefix: BASE_PREFIX });
  const kinds = {
    ours: (n: number) =>
      overHttp(n, async (agent) => {
        const posted = await request(agent, `${api.url}/jobs`, 'POST', body);
        expect(posted, 202, 'POST /jobs');
        const { id } = JSON.parse(posted.body) as { id: string };
        return expect(await request(agent, `${api.url}/jobs/${id}/result?wait=10`), 200, `result of ${id}`, true);
      }),
    one: (n: number) => overHttp(n, async (agent) => expect(await request(agent, `${api.url}/jobs?wait=5`, 'POST', body), 200, 'POST /jobs?wait=5', true)),
    raw: (n: number) =>
      sequential(n, async () => {
        await (await queue.add(BASE_QUEUE, data, baseJobOptions())).waitUntilFinished(events, 10000);
      }),
    trivial: (n: number) => overHttp(n, async (agent) => expect(await request(agent, `http://127.0.0.1:${port}/jobs`, 'POST', body), 202, 'bare Express')),
    addWait: (n: number) =>
      overHttp(n, async (agent) => expect(await request(agent, `http://127.0.0.1:${waitPort}/jobs`, 'POST', body), 200, 'add-wait Express', true)),
  };
  const names = Object.keys(kinds) as (keyof typeof kinds)[];
  try {
    await events.waitUntilReady();
    for (const k of names) await kinds[k](Math.min(100, b.args.e2eCount)); // warm-up, not counted
    const runs: Record<keyof typeof kinds, Summary>[] = [];
    for (let i = 0; i < b.args.runs; i++) {
      const got = {} as Record<keyof typeof kinds, Summary>;
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length];
        got[name] = summary(await kinds[name](b.args.e2eCount));
      }
      runs.push(got);
      const floor = got.raw.p50 + 2 * got.trivial.p50;
      b.log(
        `  e2e run ${i + 1}: ours p50 ${got.ours.p50} p95 ${got.ours.p95} p99 ${got.ours.p99} ms; one request p50 ${got.one.p50}; raw p50 ${got.raw.p50} p99 ${got.raw.p99}; ` +
          `trivial round trip p50 ${got.trivial.p50}; floor ${round(floor, 3)} (ours/floor ${round(got.ours.p50 / floor, 3)}, one/(raw+1) ${round(got.one.p50 / (got.raw.p50 + got.trivial.p50), 3)}); ` +
          `add-wait Express p50 ${got.addWait.p50} (/(raw+1) ${round(got.addWait.p50 / (got.raw.p50 + got.trivial.p50), 3)})`,
      );
    }
    const figure = (
      unit: string,
      baselineName: string,
      at: (r: (typeof runs)[number]) => { value: number; baseline: number } & Record<string, unknown>,
    ): Figure => {
      const rs = runs.map((r) => {
        const x = at(r);
        return { ...x, value: round(x.value, 3), baseline: round(x.baseline, 3), ratio: round(x.value / x.baseline, 3) };
      });
      return { value: median(rs.map((r) => r.value)), unit, baseline: median(rs.map((r) => r.baseline)), baselineName, runs: rs };
    };
    const percentileFigure = (p: 'p50' | 'p99') =>
      figure('ms', `raw queue.add + job.waitUntilFinished(QueueEvents), bare worker (${p})`, (r) => ({
        value: r.ours[p],
        baseline: r.raw[p],
        ours: r.ours,
        raw: r.raw,
      }));
    return {
      e2eP50: percentileFigure('p50'),
      e2eP99: percentileFigure('p99'),
      // The floor of "POST then long-poll"; its baseline is raw alone, and each run also says how far ours (e2eP50) is above it.
      e2eFloor: figure('ms', 'raw add→waitUntilFinished p50 (value: that + 2 trivial keep-alive round trips to bare Express, same client)', (r) => {
        const floor = r.raw.p50 + 2 * r.trivial.p50;
        return { value: floor, baseline: r.raw.p50, trivialP50: r.trivial.p50, e2eP50: r.ours.p50, e2eP50ToFloor: round(r.ours.p50 / floor, 3) };
      }),
      oneRequestP50: figure('ms', 'raw add→waitUntilFinished p50 + 1 trivial keep-alive round trip to bare Express (same client)', (r) => ({
        value: r.one.p50,
        baseline: r.raw.p50 + r.trivial.p50,
        one: r.one,
        rawP50: r.raw.p50,
        trivialP50: r.trivial.p50,
        addWaitExpressP50: r.addWait.p50,
        addWaitExpressRatio: round(r.addWait.p50 / (r.raw.p50 + r.trivial.p50), 3),
      })),
    };
  } finally {
    await Promise.allSettled([events.close(), queue.close(), ...children.map((c) => c.stop())]);
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
