import type { Redis } from 'ioredis';
import { connectionPorts } from './proc';

export interface HeldConnections {
  count: number;
  /** CLIENT LIST names of those connections (async-jobs:<name> from createRedis, or BullMQ's). */
  names: string[];
}

/**
 * The Redis connections process `pid` holds: its established sockets to the bench's
 * Redis port (from /proc), cross-checked against CLIENT LIST for their names.
 */
export async function redisConnectionsOf(pid: number, redis: Redis, redisPort: number): Promise<HeldConnections> {
  const ports = new Set(connectionPorts(pid, redisPort));
  const list = (await redis.client('LIST')) as string;
  const names: string[] = [];
  for (const line of list.split('\n')) {
    const port = Number(/ addr=[^ ]*:(\d+) /.exec(` ${line}`)?.[1]);
    if (ports.has(port)) names.push(/ name=(\S*)/.exec(` ${line}`)?.[1] || '(unnamed)');
  }
  return { count: ports.size, names: names.sort() };
}
