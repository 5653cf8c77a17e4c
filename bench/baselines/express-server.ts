/**
 * Baseline HTTP servers for the submit figure, in their own process like our API:
 * - MODE=bare: an Express 5 app whose POST handler parses the JSON body and answers 202 JSON;
 * - MODE=queue-add: the same, but the handler first awaits `queue.add` (nothing else).
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { BASE_PREFIX, BASE_QUEUE, baseJobOptions } from './job-options';

const mode = process.env.MODE;
const app = express();
app.disable('x-powered-by');
app.use(express.json());
let close = async () => {};

if (mode === 'queue-add') {
  const connection = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
  const queue = new Queue(BASE_QUEUE, { connection, prefix: BASE_PREFIX });
  app.post('/jobs', async (req, res) => {
    const opts = baseJobOptions();
    await queue.add(BASE_QUEUE, req.body.data, opts);
    res.status(202).json({ id: opts.jobId, state: 'queued' });
  });
  close = async () => {
    await queue.close();
    connection.disconnect();
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
