import { execRouted, parseWorkerName, type WorkerInfo } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import type { AppContext } from '../deps';

/** Active jobs of one type looked at to count what each worker runs; past it, `running` undercounts. */
export const MAX_ACTIVE_SCANNED = 10000;

/** A connection in BullMQ's worker registry: a line of CLIENT LIST, as Queue.getWorkers() parses it. */
interface RegistryClient {
  rawname?: string;
  addr?: string;
  age?: string;
  idle?: string;
}

interface Entry {
  /** The BullMQ worker name; null for a worker that set none (BullMQ then names its connection by the queue alone). */
  name: string | null;
  id: string;
  types: Set<string>;
  /** Seconds, from CLIENT LIST: the oldest connection's age and the freshest one's idle time. */
  age: number;
  idle: number;
  addr: string;
}

/** `<prefix>:<base64 queue>:w:`, the start of the name BullMQ gives a named worker's connection (its clientName). */
const namedPrefix = (prefix: string, type: string) => `${prefix}:${Buffer.from(type).toString('base64')}:w:`;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The live worker processes, one entry each, from BullMQ's own registry: Queue.getWorkers()
 * of every type (the named connections of the Workers serving it, from CLIENT LIST; on a
 * Cluster, that of the node with most of them, which is the node that holds the queue), grouped by
 * worker name, since one process runs one BullMQ Worker per type. Ours carry their identity
 * in that name (shared/worker-identity.ts) and are listed while their heartbeat lives; any
 * other BullMQ worker is listed with what its connection tells.
 */
export async function listWorkers(ctx: AppContext, now = Date.now()): Promise<WorkerInfo[]> {
  const byId = new Map<string, Entry>();
  await Promise.all(
    [...ctx.queues].map(async ([type, queue]) => {
      const named = namedPrefix(ctx.keys.prefixOf(type), type);
      for (const c of (await queue.getWorkers()) as RegistryClient[]) {
        // Without a name the line is not a connection (a Redis that refuses CLIENT LIST says so instead).
        if (!c.rawname) continue;
        const name = c.rawname.startsWith(named) ? c.rawname.slice(named.length) : null;
        const id = name ?? c.addr ?? c.rawname;
        let e = byId.get(id);
        if (!e) {
          e = { name, id, types: new Set(), age: 0, idle: Number.POSITIVE_INFINITY, addr: c.addr ?? '' };
          byId.set(id, e);
        }
        e.types.add(type);
        e.age = Math.max(e.age, Number(c.age) || 0);
        e.idle = Math.min(e.idle, Number(c.idle) || 0);
      }
    }),
  );
  const entries = [...byId.values()];
  const ours = entries.filter((e) => e.name !== null && parseWorkerName(e.name) !== null);
  const named = entries.filter((e) => e.name !== null);
  const servedByNamed = [...new Set(named.flatMap((e) => [...e.types]))];

  // What each named worker runs: BullMQ records the worker's name on each job it takes (processedBy).
  const activeIds = await Promise.all(servedByNamed.map((type) => ctx.queues.get(type)!.getRanges(['active'], 0, MAX_ACTIVE_SCANNED - 1)));
  const reads = [
    ...ours.map((e) => ({ key: ctx.keys.workerHeartbeat(e.id), queue: (p: ChainableCommander) => void p.get(ctx.keys.workerHeartbeat(e.id)) })),
    ...servedByNamed.flatMap((type, i) =>
      activeIds[i].map((id) => ({ key: ctx.keys.job(type, id), queue: (p: ChainableCommander) => void p.hget(ctx.keys.job(type, id), 'pb') })),
    ),
  ];
  const replies = await execRouted(ctx.redis, reads);
  for (const [err] of replies) if (err) throw err;
  const beats = new Map(ours.map((e, i) => [e.id, replies[i][1] as string | null]));
  const running = new Map<string, number>();
  for (const [, pb] of replies.slice(ours.length)) if (typeof pb === 'string') running.set(pb, (running.get(pb) ?? 0) + 1);

  const out: WorkerInfo[] = [];
  for (const e of entries) {
    const types = [...e.types].sort();
    const own = e.name === null ? null : parseWorkerName(e.name);
    if (own) {
      const beat = beats.get(e.id);
      // No heartbeat: a process gone without closing its connections (a machine lost, a frozen process).
      if (!beat) continue;
      out.push({
        id: e.id,
        host: own.host,
        pid: own.pid,
        types,
        concurrency: own.concurrency,
        startedAt: iso(own.startedAt),
        lastSeenAt: iso(Number(beat)),
        running: running.get(e.id) ?? 0,
      });
    } else {
      out.push({
        id: e.id,
        host: e.addr.replace(/:\d+$/, '') || 'unknown',
        pid: null,
        types,
        concurrency: null,
        startedAt: iso(now - e.age * 1000),
        lastSeenAt: iso(now - e.idle * 1000),
        running: e.name === null ? null : (running.get(e.name) ?? 0),
      });
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}
