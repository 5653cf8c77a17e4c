import { Worker } from 'bullmq';
import {
  applyTypeLimits,
  CANCEL_REQUESTED_FIELD,
  closeQueues,
  createKeyspace,
  createQueues,
  createResultsStore,
  exitIfNoSuchDatabase,
  jobTypes,
  layoutSpecOf,
  ownWorkerIdentity,
  workerName,
  type Config,
  type Logger,
  type RedisClient,
} from '@async-jobs/shared';
import { handlers as builtInHandlers } from './handlers/index';
import type { JobHandler } from './handlers/handler';
import type { Listener, ListenerFactory } from './listener';
import type { Attempt, RunningAttempts } from './attempt';
import { CancelledError, LockLostError } from './errors';
import { createProcessor, shutdownReason, type JobProcessor } from './process-job';
import { createCallbackDispatch } from './callbacks/dispatch';
import { createControlListener } from './control-listener';
import { createWorkerMetrics, type WorkerMetrics } from './metrics/job-metrics';
import { startHeartbeat } from './heartbeat';
import { servedTypes } from './served-types';
import { workerOptions } from './worker-options';
import { track, waitForIdle } from './in-flight';

export type { Listener, ListenerFactory } from './listener';

export interface WorkerDeps {
  config: Config;
  /** Given to BullMQ (which duplicates it for its blocking reads); role `blocking`. Not closed here. */
  connection: RedisClient;
  /** For the listeners and the callback deliveries' reads; role `blocking`. Not closed here. */
  redis: RedisClient;
  logger: Logger;
  /** Default: the built-in handlers. */
  handlers?: ReadonlyMap<string, JobHandler>;
  /**
   * EXTENSION POINT: the seed listeners (BLPOP on the prodcons list, SUBSCRIBE on the
   * pub/sub channel) plug in here; see listener.ts. Started after the workers.
   */
  listeners?: ListenerFactory[];
  /** Where the attempts it runs are observed; default: a registry of its own (see `JobWorker.metrics`). */
  metrics?: WorkerMetrics;
}

export interface CloseOptions {
  /** How long active jobs may take to finish; default SHUTDOWN_GRACE_MS. */
  graceMs?: number;
}

/** How a close went: work cut short, which other workers run again. */
export interface CloseOutcome {
  /** Jobs still running when the grace period ended (handed back to their queues, or left to stall recovery). */
  abandoned: number;
  /** Attempts that ended while Redis was away and was still away at the close: BullMQ never recorded their ends. */
  unrecorded: number;
}

export interface JobWorker {
  /** One BullMQ worker per queue of each served job type (a type, or each shard of a sharded one), by queue name. */
  workers: Map<string, Worker>;
  /** This process's Prometheus registry; main.ts serves it on WORKER_METRICS_PORT. */
  metrics: WorkerMetrics;
  /** This process's BullMQ worker name, as GET /workers shows it (`id`). */
  name: string;
  ready(): Promise<void>;
  /**
   * Stops taking jobs, lets active ones finish within the grace period, then closes
   * the workers; jobs still running then are aborted and handed back to their queues
   * (another worker runs them again), or, when that move cannot reach Redis, left to
   * BullMQ's stall recovery once their locks lapse: never lost. Idempotent.
   */
  close(opts?: CloseOptions): Promise<CloseOutcome>;
}

/** How long a worker past its grace period waits for its jobs to be moved back to their queues. */
const HAND_BACK_MS = 1000;

/** Resolves once none of `workers` runs its loop, or once `ms` have passed. */
async function loopsEnded(workers: readonly Worker[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (workers.some((w) => w.isRunning()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

export function createWorker(deps: WorkerDeps): JobWorker {
  const { config, logger } = deps;
  const handlers = deps.handlers ?? builtInHandlers;
  const types = servedTypes(config, handlers);
  const keys = createKeyspace(config.KEY_NAMESPACE, layoutSpecOf(config));
  // Read by callback deliveries only: the worker writes nothing of its own per job.
  const store = createResultsStore({ redis: deps.redis, keys, resultTtlSeconds: config.RESULT_TTL_SECONDS, types: [...handlers.keys()] });
  const draining = new AbortController();
  const shutdown = new AbortController();
  const running: RunningAttempts = new Map(types.map((t) => [t, new Map<string, Attempt>()]));
  const active = new Set<Promise<unknown>>();
  /**
   * Attempts that ended while BullMQ's connection was not ready: BullMQ's record of each end
   * waits in that connection's offline queue, sent once it is ready again. A worker that
   * closes before then leaves them unrecorded (the jobs run again after stall recovery).
   * Hand-backs after the grace period are counted as abandoned instead.
   */
  let endedAway = 0;
  const endedNow = () => {
    if (deps.connection.status !== 'ready' && !shutdown.signal.aborted) endedAway++;
  };
  const backAgain = () => {
    endedAway = 0;
  };
  deps.connection.on('ready', backAgain);

  const name = workerName(ownWorkerIdentity(config.WORKER_CONCURRENCY));
  const callbacks = createCallbackDispatch(config, keys, deps.connection, store, logger, name);
  const workers = new Map<string, Worker>();
  const metrics = deps.metrics ?? createWorkerMetrics();
  // A cancel aborts the attempt if this process runs it; the job then fails with CancelledError, never retried.
  const cancel = (type: string, id: string) => {
    const run = running.get(type)?.get(id);
    run?.abort(new CancelledError('cancelled by request'));
    return run !== undefined;
  };
  const control = createControlListener(config, keys, cancel, logger);
  // Only to write TYPE_LIMITS into BullMQ at start (ready()); the workers read them from there.
  const limitQueues = createQueues(deps.connection, keys, (err) => logger.warn({ err: err.message }, 'queue connection error'), types);
  for (const type of types) {
    const processJob = createProcessor({
      type,
      handler: handlers.get(type) as JobHandler,
      definition: jobTypes.get(type),
      config,
      logger,
      draining: draining.signal,
      shutdown: shutdown.signal,
      running: running.get(type)!,
      cancelRequested: control.cancelRequested,
      cancelNoted: async (id) => (await deps.redis.hexists(keys.tombstone(type, id), CANCEL_REQUESTED_FIELD)) === 1,
      // One command per key, not a pipeline: on a Cluster a foreign flow's children may span slots.
      readStacks: (jobKeys) => Promise.all(jobKeys.map((k) => deps.redis.hget(k, 'stacktrace'))),
    });
    // Two parameters, like processJob: BullMQ makes an AbortController per job for a processor of three.
    const tracked: JobProcessor = (job, token) => {
      const attempt = track(active, processJob(job, token));
      attempt.then(endedNow, endedNow);
      return attempt;
    };
    // A sharded type is served on every shard: the worker takes jobs of its types wherever they are.
    for (const queue of keys.queuesOf(type)) {
      const worker = new Worker(queue, tracked, workerOptions(config, keys, deps.connection, queue, name));
      // Without a listener, an 'error' event would crash the process; these are Redis or lock troubles.
      worker.on('error', (err) => {
        exitIfNoSuchDatabase(err, config.REDIS_URL);
        logger.error({ queue, err: err.message }, 'worker error');
      });
      worker.on('stalled', (jobId) => logger.warn({ queue, jobId }, 'job stalled (its worker stopped); it will run again'));
      // A job whose lock lapsed (this process stalled: a blocked event loop, a stopped process) may be
      // run by another worker already: stop this attempt, so its progress and log lines do not land
      // in the other run's (BullMQ's progress and log writes do not check the lock).
      worker.on('lockRenewalFailed', (jobIds: string[]) => {
        for (const jobId of jobIds) {
          const run = running.get(type)?.get(jobId);
          if (!run) continue;
          logger.warn({ queue, jobId }, 'lost the lock of a running job; stopping its attempt');
          run.abort(new LockLostError("this worker lost the job's lock; another worker may run it"));
        }
      });
      metrics.follow(type, worker);
      workers.set(queue, worker);
    }
  }

  // On the worker's own store connection (deps.redis): written while the workers run, deleted when they close.
  const heartbeat = startHeartbeat(deps.redis, keys.workerHeartbeat(name), logger);

  const listenerCtx = { config, keys, logger, redis: deps.redis };
  const listeners: Listener[] = [];
  try {
    for (const start of deps.listeners ?? []) listeners.push(start(listenerCtx));
  } catch (err) {
    // Nothing is returned to close, so close here what was started before the failure.
    deps.connection.off('ready', backAgain);
    void Promise.allSettled([
      ...listeners.map((l) => l.close()),
      control.close(),
      closeQueues(limitQueues),
      callbacks.close(),
      heartbeat.close(),
      ...[...workers.values()].map((w) => w.close(true)),
    ]);
    throw err;
  }

  /**
   * Every worker writes the limits of the types it serves, so a restart with a changed
   * TYPE_LIMITS takes effect (and a dropped limit is cleared) without another step; workers
   * that share a configuration write the same values. A change is logged, so that workers
   * started with different TYPE_LIMITS show up as a tug of war in the logs.
   */
  async function applyLimits(): Promise<void> {
    for (const change of await applyTypeLimits(limitQueues, config.TYPE_LIMITS)) logger.info(change, 'type limit set');
  }

  let closing: Promise<CloseOutcome> | undefined;

  async function closeAll(graceMs: number): Promise<CloseOutcome> {
    const step = async (what: string, fn: () => Promise<unknown>) => {
      const started = Date.now();
      try {
        await fn();
        logger.debug({ step: what, ms: Date.now() - started }, 'closed');
      } catch (err) {
        logger.error({ step: what, err: (err as Error).message }, 'error while closing');
      }
    };
    // Reverse order of creation: listeners, then workers.
    for (const l of [...listeners].reverse()) await step(`listener ${l.name}`, () => l.close());
    await step('control listener', () => control.close());
    await step('limit queues', () => closeQueues(limitQueues));
    const all = [...workers.values()].reverse();
    draining.abort();
    // Stop fetching on every queue at once; running jobs keep renewing their locks.
    await Promise.all(all.map((w) => step(`pause ${w.name}`, () => w.pause(true))));
    const drained = await waitForIdle(active, graceMs);
    const abandoned = drained ? 0 : active.size;
    if (!drained) {
      logger.warn({ active: abandoned, graceMs }, 'grace period over; active jobs are handed back to their queues');
      // Stopped while BullMQ still holds their locks: each attempt moves its job back (process-job.ts).
      // Bounded: with Redis away the moves wait for it, and the jobs are then left to stall recovery.
      stopAttempts();
      await waitForIdle(active, HAND_BACK_MS);
    }
    // We waited above; BullMQ's own close() would wait again without a bound (and cannot be
    // escalated once started), so force: it only skips that wait.
    for (const w of all) await step(`worker ${w.name}`, () => w.close(true));
    // A fetch already waiting when the workers paused still moves the job that wakes it to active
    // (BullMQ checks the pause before its blocking wait, not after): a job handed back above wakes
    // it. Its attempt hands it back in turn (draining) before BullMQ's loop ends, so the loops are
    // waited for before the connections close. Not with Redis away: no move can be made then.
    if (deps.connection.status === 'ready') await step('worker loops', () => loopsEnded(all, HAND_BACK_MS));
    // Its connections are closed, so BullMQ's registry no longer lists it; the heartbeat goes too.
    await step('heartbeat', () => heartbeat.close());
    // Deliveries in flight are bounded by CALLBACK_TIMEOUT_MS; one cut short is retried by another worker.
    await step('callbacks', () => callbacks.close());
    deps.connection.off('ready', backAgain);
    const unrecorded = deps.connection.status === 'ready' ? 0 : endedAway;
    if (unrecorded > 0)
      logger.warn({ unrecorded }, 'Redis is away: the ends of attempts that finished meanwhile were not recorded; those jobs run again after stall recovery');
    return { abandoned, unrecorded };
  }

  function stopAttempts(): void {
    shutdown.abort(new Error('the worker shut down before this attempt finished'));
    for (const byId of running.values()) for (const run of byId.values()) run.abort(shutdownReason(shutdown.signal));
  }

  return {
    workers,
    metrics,
    name,
    async ready() {
      await Promise.all([...[...workers.values()].map((w) => w.waitUntilReady()), control.ready, callbacks.ready(), heartbeat.ready, applyLimits()]);
    },
    close(opts = {}) {
      closing ??= closeAll(opts.graceMs ?? config.SHUTDOWN_GRACE_MS);
      return closing;
    },
  };
}
