import { EventEmitter } from 'node:events';
import type { Job, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../apps/worker/src/metrics/job-metrics';
import { parse, value } from './prometheus-text';

/** A job's first start as a BullMQ worker reports it, once BullMQ has moved it out of the delayed set. */
const started = (submittedAt: number, delay: number, startedAt: number) =>
  ({ attemptsStarted: 1, timestamp: submittedAt, processedOn: startedAt, delay: 0, opts: { delay } }) as unknown as Job;

describe("the worker's queue-wait histogram", () => {
  it('counts from when a delayed job could first run, not from its submit', async () => {
    const metrics = createWorkerMetrics();
    const worker = new EventEmitter();
    metrics.follow('echo', worker as unknown as Worker);
    // Submitted at 0 with an hour's delay (a schedule's next run), started 20 ms after it was due.
    worker.emit('active', started(0, 3_600_000, 3_600_020));
    const samples = parse(await metrics.registry.metrics());
    expect(value(samples, 'asyncjobs_worker_queue_wait_seconds_sum', { type: 'echo' })).toBeCloseTo(0.02, 5);
    expect(value(samples, 'asyncjobs_worker_queue_wait_seconds_bucket', { type: 'echo', le: '0.025' })).toBe(1);
  });
});
