/**
 * Baseline HTTP servers, in their own process like our API:
 * - MODE=bare: an Express 5 app whose POST /jobs parses the JSON body and answers 202 JSON;
 * - MODE=queue-add: the same, but POST /jobs first awaits `queue.add` (nothing else), and
 *   POST /jobs/batch awaits one `queue.addBulk` of its `jobs`;
 * - MODE=add-wait: POST /jobs awaits `queue.add`, then `job.waitUntilFinished` on a
 *   QueueEvents of its own, and answers 200 with the result.
 * The last two are what a few lines of Express around BullMQ give: the batch and
 * one-request figures show them beside ours, so the cost of HTTP itself can be told from ours.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE as DEFAULT_QUEUE, baseJobOptions } from './job-options';

// QUEUE: another queue of the same prefix, where a figure needs one apart (e2e's add-wait).
const BASE_QUEUE = process.env.QUEUE ?? DEFAULT_QUEUE;
const mode = process.env.MODE;
const app = express();
app.disable('x-powered-by');
// A batch of 100 echo jobs is about 4 KB; our API takes up to 1 MB.
app.use(express.json({ limit: '1mb' }));
let close = async () => {};

if (mode === 'queue-add' || mode === 'add-wait') {
  const connection = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
  const queue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  // QueueEvents blocks on XREAD: a connection of its own, and only where it is used (it reads every event).
  const eventsConnection = mode === 'add-wait' ? new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null }) : undefined;
  const events = eventsConnection && new QueueEvents(BASE_QUEUE, { connection: eventsConnection, prefix: BASE_PREFIX });
  await events?.waitUntilReady();
  app.post('/jobs', async (req, res) => {
    const opts = baseJobOptions();
    const job = await queue.add(BASE_QUEUE, req.body.data, opts);
    if (!events) {
      res.status(202).json({ id: opts.jobId, state: 'queued' });
      return;
    }
    const result = await job.waitUntilFinished(events, 10_000);
    res.status(200).json({ id: opts.jobId, state: 'completed', result });
  });
  app.post('/jobs/batch', async (req, res) => {
    const jobs = await queue.addBulk((req.body.jobs as { data: unknown }[]).map((j) => ({ name: BASE_QUEUE, data: j.data, opts: baseJobOptions() })));
    res.status(202).json({ jobs: jobs.map((j) => ({ id: j.id, state: 'queued' })) });
  });
  close = async () => {
    await events?.close();
    await queue.close();
    connection.disconnect();
    eventsConnection?.disconnect();
  };
} else {
  app.post('/jobs', (_req, res) => {
    res.status(202).json({ id: randomUUID(), state: 'queued' });
  });
}

const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`ready ${mode}`));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void close().then(() => process.exit(0));
});
