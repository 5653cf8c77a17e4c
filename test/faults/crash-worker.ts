/**
 * A worker process for fault tests: the real createWorker, configured from the
 * environment like apps/worker/src/main.ts, with a fault-injection shim on its Redis
 * connections. A job whose id starts with a kill point's name is SIGKILLed at that
 * point the first time any worker meets it (a marker file in CRASH_MARKERS, created
 * atomically, says "already crashed once"), so the re-run on another worker proceeds:
 *
 * - `before.`       fetched and locked by BullMQ, nothing recorded yet
 * - `during.`       `active` recorded, 150 ms into the handler
 * - `afterrun.`     the handler returned; its outcome not yet sent to Redis
 * - `afterrecord.`  `completed` recorded; BullMQ not yet told the job finished
 *
 * The kills before a write happen synchronously, in the call that would send it, so
 * the shim never changes the order in which commands reach Redis.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { closeRedis, createLogger, createRedis, loadConfig } from '@async-jobs/shared';
import { UPSERT_LUA } from '../../packages/shared/src/lua/upsert';
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

/** The job id and state of each write in one call of the upsert script (layout: lua/upsert.ts, after its 4 keys). */
function writesOf(args: unknown[]): { id: string; state: string }[] {
  const out = [];
  let o = 4;
  while (o < args.length) {
    const n = Number(args[o]);
    // After n: version, mode, 3 ttls, channel, event, log max, id, then 'type', <type>, 'state', <state>.
    out.push({ id: String(args[o + 9]), state: String(args[o + 13]) });
    o += 1 + n;
  }
  return out;
}

/**
 * Wraps the results store's upsert script on a connection, before the store defines it
 * there; both connections get it, since which one the store writes on is createWorker's
 * choice. One call may carry a job's deferred `active` together with its outcome.
 */
function shimUpsert(conn: typeof redis) {
  const c = conn as unknown as Scripted;
  c.defineCommand('ajUpsert', { numberOfKeys: 4, lua: UPSERT_LUA });
  const upsert = c.ajUpsert.bind(conn);
  c.ajUpsert = (...args) => {
    const writes = writesOf(args);
    for (const { id, state } of writes) {
      const point = pointOf(id);
      if (point === 'before' && state === 'active' && firstCrash(id)) die(point, id);
      if (point === 'afterrun' && state === 'completed' && firstCrash(id)) die(point, id);
    }
    const sent = upsert(...args);
    for (const { id, state } of writes) {
      if (pointOf(id) === 'during' && state === 'active') void sent.then(() => firstCrash(id) && setTimeout(() => die('during', id), 150));
    }
    return sent;
  };
}
shimUpsert(connection);
shimUpsert(redis);

const worker = createWorker({ config, connection, redis, logger });
process.on('SIGTERM', async () => {
  await worker.close();
  await Promise.allSettled([closeRedis(connection), closeRedis(redis)]);
  process.exit(0);
});
await worker.ready();

// BullMQ has defined its scripts on the connection by now; its completion of a job goes
// through moveToFinished. For `afterrecord.`, wait until both connections have applied
// everything sent before (so the `completed` record is in), then die instead of sending it.
const bull = connection as unknown as Scripted;
const finishName = Object.keys(bull).find((k) => k.startsWith('moveToFinished:'));
if (!finishName) throw new Error('BullMQ moveToFinished script not found on the connection');
const finish = bull[finishName].bind(connection);
bull[finishName] = async (...args) => {
  const id = JSON.stringify(args).match(/"(afterrecord\.[0-9a-f-]{36})"/)?.[1];
  if (id && firstCrash(id)) {
    await Promise.all([connection.ping(), redis.ping()]);
    die('afterrecord', id);
  }
  return finish(...args);
};
logger.info({ pid: process.pid }, 'worker ready');
