/**
 * Baseline for the drain and e2e figures: a bare BullMQ Worker, in its own process, whose
 * processor returns the job's data, as our echo does (and the Celery and RQ peers' tasks):
 * both sides store the same result and log it in the same `completed` entry. This is the
 * baseline the issue measured ("processor returns job.data"); until 2026-12-03 it returned
 * nothing, which left BullMQ less to write than for ours.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE as DEFAULT_QUEUE, baseRetention } from './job-options';

// QUEUE: another queue of the same prefix, where a figure needs one apart (e2e's add-wait).
const BASE_QUEUE = process.env.QUEUE ?? DEFAULT_QUEUE;
const connection = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
const worker = new Worker(BASE_QUEUE, async (job) => job.data, {
  connection,
  prefix: BASE_PREFIX,
  concurrency: Number(process.env.CONCURRENCY ?? 10),
  ...baseRetention,
});
worker.on('error', (err) => console.error(`worker error: ${err.message}`));
await worker.waitUntilReady();
console.log('ready');
process.on('SIGTERM', () => {
  void worker.close().then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
