import { setTimeout as wait } from 'node:timers/promises';
import type { jobDefinitions } from '@async-jobs/shared';
import type { z } from 'zod';
import type { HandlerContext, JobHandler } from './handler';

type SleepInput = z.output<typeof jobDefinitions.sleep.input>;
type SleepResult = z.output<typeof jobDefinitions.sleep.result>;

/** Report every 10% of the sleep or every 250 ms, whichever is rarer, so short sleeps do not flood the store. */
const MIN_TICK_MS = 250;

/** A progress report and its job log line (docs/http-api.md "Built-in job types"), together. */
async function report(ctx: HandlerContext, percent: number, sleptMs: number, ms: number): Promise<void> {
  await Promise.all([ctx.progress(percent), ctx.log(`slept ${Math.min(sleptMs, ms)} of ${ms} ms (${percent}%)`)]);
}

export const sleep: JobHandler<SleepInput, SleepResult> = {
  name: 'sleep',
  async run({ ms }, ctx) {
    const tick = Math.max(ms / 10, MIN_TICK_MS);
    const start = Date.now();
    for (;;) {
      const left = ms - (Date.now() - start);
      if (left <= 0) break;
      try {
        await wait(Math.min(tick, left), undefined, { signal: ctx.signal });
      } catch (err) {
        // timers/promises wraps the reason in an AbortError; the reason says why (timeout, cancel).
        throw ctx.signal.aborted ? ctx.signal.reason : err;
      }
      const done = Math.min(100, Math.floor(((Date.now() - start) / ms) * 100));
      if (done < 100) await report(ctx, done, Date.now() - start, ms);
    }
    await report(ctx, 100, ms, ms);
    return { sleptMs: ms };
  },
};
