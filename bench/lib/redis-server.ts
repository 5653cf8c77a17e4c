import { Redis } from 'ioredis';
import { startReady, type Child } from './child';
import { freePort } from './free-port';

export interface BenchRedis {
  url: string;
  port: number;
  child: Child;
  /** A plain connection for the bench's own reads and setup. */
  client: Redis;
  version: string;
  close(): Promise<void>;
}

/**
 * A redis-server of the bench's own, on a free port, with persistence off, so that
 * every run starts empty and nothing else on the machine shares it.
 */
export async function startRedis(logDir: string): Promise<BenchRedis> {
  const port = await freePort();
  const child = await startReady(
    {
      name: 'redis-server',
      argv: ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      env: { PATH: process.env.PATH },
      logDir,
    },
    (c) => c.waitForOutput('Ready to accept connections', 10000),
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: 3 });
  const info = await client.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    url,
    port,
    child,
    client,
    version,
    async close() {
      client.disconnect();
      await child.stop(5000);
    },
  };
}
