import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { keySlot } from './key-slot';
import type { RedisClient } from './redis';

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis.isCluster === true;
}

/** One command for execRouted: the key it touches (all its keys share one slot) and how to queue it. */
export interface RoutedCommand {
  key: string;
  /** Queues exactly one command on `pipe`, so that replies line up with commands. */
  queue(pipe: ChainableCommander): void;
}

/**
 * Runs `commands` pipelined and returns their replies in order, as `pipeline().exec()`
 * does. On one Redis that is one pipeline: one round trip. ioredis sends a Cluster
 * pipeline only when all its keys live on one node, so there the commands are grouped
 * by the nodes that serve their slot (as ioredis itself groups slots) and each group
 * goes as one pipeline, all at once: one round trip per node, in parallel. Order is
 * kept within a node; across nodes there is none, as there is none across slots.
 */
export async function execRouted(redis: RedisClient, commands: readonly RoutedCommand[]): Promise<[Error | null, unknown][]> {
  if (commands.length === 0) return [];
  if (!isCluster(redis)) return run(redis, commands);
  const groups = new Map<string, number[]>();
  for (const [i, c] of commands.entries()) {
    const slot = keySlot(c.key);
    // Before the first slot map arrives, a group per slot is always right, just slower.
    const nodes = redis.slots[slot]?.join(';') ?? `slot ${slot}`;
    let group = groups.get(nodes);
    if (!group) {
      group = [];
      groups.set(nodes, group);
    }
    group.push(i);
  }
  const out = new Array<[Error | null, unknown]>(commands.length);
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const replies = await run(
        redis,
        group.map((i) => commands[i]),
      );
      for (const [k, i] of group.entries()) out[i] = replies[k];
    }),
  );
  return out;
}

async function run(redis: RedisClient, commands: readonly RoutedCommand[]): Promise<[Error | null, unknown][]> {
  const pipe = redis.pipeline();
  for (const c of commands) c.queue(pipe);
  const replies = (await pipe.exec()) ?? [];
  return commands.map((_, i) => replies[i] ?? [new Error('no reply to a pipelined command'), null]);
}

/**
 * The connection that serves `key`: the client itself for one Redis; on a Cluster,
 * its connection to the master of the key's slot, or null while the slot map is not
 * known. For commands that must reach that very server, such as CLIENT ID and
 * CLIENT UNBLOCK for a BLPOP on `key`.
 */
export function nodeForKey(redis: RedisClient, key: string): Redis | null {
  if (!isCluster(redis)) return redis;
  const master = redis.slots[keySlot(key)]?.[0];
  if (!master) return null;
  return redis.nodes('master').find((n) => nodeName(n) === master) ?? null;
}

/** A node's name as a Cluster's slot map gives it: `host:port`. */
export const nodeName = (node: Redis) => `${node.options.host}:${node.options.port}`;
