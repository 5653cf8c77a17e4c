import { randomInt } from 'node:crypto';
import { createResultsStore } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from '../api-harness';
import { createTestContext, waitFor, watchEvents, type EventWatch } from '../helpers';
import { writeFigures } from './figures';
import { startFleet, type Fleet } from './fleet';

const ctx = createTestContext();
const store = createResultsStore({ redis: ctx.redis, keys: ctx.keys, resultTtlSeconds: 600 });
let watch: EventWatch;
let api: RunningApi;
let fleet: Fleet | undefined;

beforeAll(async () => {
  watch = await watchEvents(ctx);
  api = await startApi(ctx);
});

afterAll(async () => {
  await fleet?.stop();
  await api?.close();
  await watch?.close();
  await ctx.cleanup();
});

describe('a rolling restart: every worker gets SIGTERM in turn while jobs run', () => {
  it('stops each time (exit 1 only when it handed jobs on), finishes what fits in the grace period, hands the rest on, and loses nothing', async () => {
    // Grace 1 s, jobs up to 2.5 s: some finish during the grace period, others are released.
    const env = {
      SHUTDOWN_GRACE_MS: '1000',
      STALLED_INTERVAL_MS: '1000',
      LOCK_DURATION_MS: '2000',
      WORKER_TYPES: 'sleep',
      WORKER_CONCURRENCY: '4',
      LIST_LISTENER: 'false',
      PUBSUB_LISTENER: 'false',
      // 'job completed' is a debug line: the test reads it to see what each worker finished.
      LOG_LEVEL: 'debug',
    };
    fleet = startFleet(ctx, 3, env);
    await fleet.ready();

    const ids: string[] = [];
    let submitting = true;
    const submitter = (async () => {
      while (submitting) {
        const r = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 200 + randomInt(2300) } });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
        await new Promise((res) => setTimeout(res, 60));
      }
    })();

    const stopped = [];
    for (let round = 0; round < 3; round++) {
      // The oldest worker, as a deploy takes them one by one, once it has work in hand.
      const victim = fleet.live()[0];
      await victim.line((l) => l.msg === 'job completed', 20000);
      victim.kill('SIGTERM');
      // 0 when it finished all it held within the grace period; 1 when it had to hand jobs on.
      const code = await victim.exited;
      const abandoned = Number(victim.lines.find((l) => l.msg === 'worker stopped')?.abandoned);
      expect(code).toBe(abandoned > 0 ? 1 : 0);
      stopped.push(victim);
    }
    submitting = false;
    await submitter;

    await waitFor(async () => (await store.readMany(ids)).every((r) => r?.state === 'completed'), 60000, 200);
    // The job reads completed before its event reaches our subscriber; under Redis Cluster the
    // event crosses the cluster bus first, so wait for each one rather than read too early.
    await Promise.all(ids.map((id) => watch.terminal(id, 10000)));
    for (const id of ids) {
      expect(
        watch
          .of(id)
          .filter((e) => ['completed', 'failed', 'cancelled'].includes(e.event))
          .map((e) => e.event),
        id,
      ).toEqual(['completed']);
    }
    // What the stopped workers did: finished some jobs after the signal, released others.
    const finishedInGrace = stopped.flatMap((w) => {
      const signalAt = w.lines.findIndex((l) => l.msg === 'worker shutting down');
      return w.lines.slice(signalAt).filter((l) => l.msg === 'job completed');
    }).length;
    expect(finishedInGrace).toBeGreaterThan(0);
    // Jobs still running when the grace period ended were abandoned (their worker says which) and
    // ran again on another worker, as the same attempt: a shutdown is not a failure.
    const released = stopped.flatMap((w) => w.lines.filter((l) => String(l.msg).startsWith('job attempt abandoned')).map((l) => String(l.jobId)));
    for (const id of released) {
      expect(watch.of(id).filter((e) => e.event === 'active').length, id).toBeGreaterThan(1);
      expect((await store.read(id))?.attempts.made, id).toBe(1);
    }

    const completed = (await store.readMany(ids)).filter((r) => r?.state === 'completed').length;
    writeFigures('worker-shutdown', {
      fault: 'Worker SIGTERM with jobs active (rolling restart, grace 1 s)',
      injected: stopped.length,
      accepted: ids.length,
      completed,
      lost: ids.length - completed,
      notes: `${finishedInGrace} jobs finished within the grace period, ${released.length} released past it and completed by another worker`,
    });
  }, 120000);
});
