/**
 * A worker process for fault tests: the real createWorker, configured from the
 * environment like apps/worker/src/main.ts, with fault injection around its handlers
 * and BullMQ's completion script. A job whose id starts with a kill point's name is
 * SIGKILLed at that point the first time any worker meets it (a marker file in
 * CRASH_MARKERS, created atomically, says "already crashed once"), so the re-run on
 * another worker proceeds:
 *
 * - `before.`    fetched, locked and marked active by BullMQ; the handler not started
 * - `during.`    150 ms into the handler
 * - `afterrun.`  the handler returned; BullMQ not yet told the job finished
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { closeRedis, createLogger, createRedis, loadConfig } from '@async-jobs/shared';
import { handlers } from '../../apps/worker/src/handlers/index';
import type { JobHandler } from '../../apps/worker/src/handlers/handler';
import { createWorker } from '../../apps/worker/src/worker';

const config = loadConfig();
const logger = createLogger('worker', config.LOG_LEVEL);
const connection = createRedis(config, 'blocking', logger, 'crash-worker-bullmq');
const redis = createRedis(config, 'blocking', logger, 'crash-worker-store');
const markers = process.env.CRASH_MARKERS ?? '';
if (!markers) throw new Error('CRASH_MARKERS (a folder for the "crashed once" markers) is not set');

type Script = (...args: unknown[]) => Promise<unknown>;
type Scripted = Record<string, Script> & { defineCommand: typeof redis.defineCommand };

const die = (point: string, id: string) => {
  logger.warn({ point, jobId: id }, 'fault injection: SIGKILL');
  process.kill(process.pid, 'SIGKILL');
};
/** True the first time any worker process asks for this job; synchronous, so nothing else runs meanwhile. */
function firstCrash(id: string): boolean {
  try {
    const fd = openSync(join(markers, id), 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch {
    return false;
  }
}
const pointOf = (id: string) => id.split('.')[0];

/** The built-in handlers, each dying at `before.` and `during.` points of the jobs it runs. */
const crashing = new Map<string, JobHandler>(
  [...handlers].map(([type, h]) => [
    type,
    {
      name: h.name,
      run(data, ctx) {
        const point = pointOf(ctx.jobId);
        if (point === 'before' && firstCrash(ctx.jobId)) die(point, ctx.jobId);
        if (point === 'during' && firstCrash(ctx.jobId)) setTimeout(() => die(point, ctx.jobId), 150);
        return h.run(data, ctx);
      },
    },
  ]),
);

const worker = createWorker({ config, connection, redis, logger, handlers: crashing });
process.on('SIGTERM', async () => {
  await worker.close();
  await Promise.allSettled([closeRedis(connection), closeRedis(redis)]);
  process.exit(0);
});
await worker.ready();

// BullMQ has defined its scripts on the connection by now; its completion of a job goes
// through moveToFinished. For `afterrun.`, die instead of sending it.
const bull = connection as unknown as Scripted;
const finishName = Object.keys(bull).find((k) => k.startsWith('moveToFinished:'));
if (!finishName) throw new Error('BullMQ moveToFinished script not found on the connection');
const finish = bull[finishName].bind(connection);
bull[finishName] = async (...args) => {
  const id = JSON.stringify(args).match(/"(afterrun\.[0-9a-f-]{36})"/)?.[1];
  if (id && firstCrash(id)) die('afterrun', id);
  return finish(...args);
};
logger.info({ pid: process.pid }, 'worker ready');
