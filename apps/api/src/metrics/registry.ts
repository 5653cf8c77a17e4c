import { collectProcessMetrics, type JobQueue, type Logger } from '@async-jobs/shared';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RelayedChange } from '../events/relay';

/** BullMQ's lists and sets a job can sit in; each becomes a `state` label of the queue depth gauge. */
const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children', 'completed', 'failed'] as const;

export interface MetricsDeps {
  queues: Map<string, JobQueue>;
  /** The job type of a queue name (shards of a type count as that type). */
  typeOfQueue: (queue: string) => string;
  /**
   * Whether the queues' connection is up. While it is not, a scrape leaves the queue depth
   * out at once: a queue whose connection has not been ready since it was made waits for
   * Redis, and would hold the scrape (and each scrape after it) without end.
   */
  queuesReady: () => boolean;
  logger: Logger;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The API's Prometheus metrics, in a registry of its own (not prom-client's global one),
 * so that several apps in one process (tests) keep separate counts and never collide.
 */
export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  collectProcessMetrics(registry);

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern (never the raw URL) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const submitted = new Counter({
    name: 'asyncjobs_jobs_submitted_total',
    help: 'Jobs accepted by this API instance, by type',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  // Counted from what the relay relays: one API process at a time holds its lease and each
  // change is relayed once, so the sum over API processes is the system's count (README "Metrics").
  const counted = (name: string, what: string) =>
    new Counter({
      name,
      help: `Jobs that ${what}, by type; counted by the API process that relayed it: sum() over processes`,
      labelNames: ['type'] as const,
      registers: [registry],
    });
  const changes = {
    completed: counted('asyncjobs_jobs_completed_total', 'completed'),
    failed: counted('asyncjobs_jobs_failed_total', 'failed after their last attempt'),
    cancelled: counted('asyncjobs_jobs_cancelled_total', 'were cancelled'),
    retrying: counted('asyncjobs_jobs_retried_total', 'went back to the queue for another attempt (after a failed attempt, a stall, or a retry by hand)'),
  };

  new Gauge({
    name: 'asyncjobs_queue_jobs',
    help: 'Jobs in BullMQ by type and state, read at scrape time',
    labelNames: ['type', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!deps.queuesReady()) return;
      try {
        const counts = await Promise.all([...deps.queues].map(async ([queue, q]) => [deps.typeOfQueue(queue), await q.getJobCounts(...QUEUE_STATES)] as const));
        // The shards of a type add up to the type.
        const sums = new Map<string, number>();
        for (const [type, c] of counts) for (const state of QUEUE_STATES) sums.set(`${type}\n${state}`, (sums.get(`${type}\n${state}`) ?? 0) + (c[state] ?? 0));
        for (const [k, n] of sums) {
          const [type, state] = k.split('\n');
          this.set({ type, state }, n);
        }
      } catch (err) {
        // Without Redis the depth is unknown: leave it out rather than fail the whole scrape.
        deps.logger.debug({ err: (err as Error).message }, 'queue depth not collected');
      }
    },
  });

  let waiters: () => number = () => 0;
  let streams: () => number = () => 0;
  new Gauge({
    name: 'asyncjobs_longpoll_waiters',
    help: 'Requests held until a job ends: GET /jobs/:id/result?wait=, POST /jobs?wait=, and idempotent repeats waiting on their first request',
    registers: [registry],
    collect() {
      this.set(waiters());
    },
  });
  new Gauge({
    name: 'asyncjobs_sse_streams',
    help: 'Open GET /jobs/:id/events streams',
    registers: [registry],
    collect() {
      this.set(streams());
    },
  });

  return {
    registry,
    httpDuration,
    /** Call where the API has accepted `n` jobs of `type` (after the enqueue succeeded). */
    jobSubmitted(type: string, n = 1) {
      submitted.inc({ type }, n);
    },
    /** The relay's hook: counts each change it relayed (once for the whole system). */
    onRelayed(relayed: readonly RelayedChange[]) {
      for (const { type, change } of relayed) changes[change].inc({ type });
    },
    /** The notifier supplies how many long-poll requests are waiting; read at scrape time. */
    trackWaiters(count: () => number) {
      waiters = count;
    },
    /** The notifier supplies how many SSE streams are open; read at scrape time. */
    trackStreams(count: () => number) {
      streams = count;
    },
  };
}
