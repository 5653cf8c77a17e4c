import { CANCELLED_ERROR, collectProcessMetrics } from '@async-jobs/shared';
import type { Job, Worker } from 'bullmq';
import { Histogram, Registry } from 'prom-client';

/** Seconds: from a few milliseconds (a hash) to an hour (a backlog, a slow request). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export interface WorkerMetrics {
  /** This process's metrics: its own process figures and the attempts it ran. */
  registry: Registry;
  /** Observes the attempts `worker` (one BullMQ worker, one job type) starts and ends. */
  follow(type: string, worker: Worker): void;
}

const seconds = (ms: number) => Math.max(0, ms) / 1000;

/**
 * The delay the job was added with: its options', since BullMQ sets the job's own `delay`
 * field to 0 when it moves the job out of the delayed set, before any worker sees it.
 */
function delayOf(job: Job): number {
  const delay = job.opts.delay ?? job.delay;
  return Number.isFinite(delay) ? (delay as number) : 0;
}

/**
 * A worker process's Prometheus metrics, from BullMQ's own timestamps on each job
 * (`timestamp`, `processedOn`, `finishedOn`), so only jobs this process ran are in them:
 * the job counters of the whole system are the API's (README "Metrics").
 */
export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const wait = new Histogram({
    name: 'asyncjobs_worker_queue_wait_seconds',
    help: 'From when a job could first run (submitted, plus its delay) to the start of its first attempt, by type; jobs this worker process started',
    labelNames: ['type'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const run = new Histogram({
    name: 'asyncjobs_worker_run_seconds',
    help: 'Run time of each attempt this worker process ran, by type and outcome (completed, failed, cancelled)',
    labelNames: ['type', 'outcome'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    follow(type, worker) {
      worker.on('active', (job: Job) => {
        // Only a job's first start: a retry's or a stall recovery's start would count the earlier attempts as waiting.
        if (job.attemptsStarted !== 1 || !job.processedOn) return;
        wait.observe({ type }, seconds(job.processedOn - job.timestamp - delayOf(job)));
      });
      const ended = (job: Job | undefined, outcome: string) => {
        if (job?.processedOn) run.observe({ type, outcome }, seconds((job.finishedOn || Date.now()) - job.processedOn));
      };
      worker.on('completed', (job: Job) => ended(job, 'completed'));
      worker.on('failed', (job: Job | undefined, err: Error) => ended(job, err.name === CANCELLED_ERROR ? 'cancelled' : 'failed'));
    },
  };
}
