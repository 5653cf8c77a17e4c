import { hostname } from 'node:os';

/**
 * Who a worker process is, carried in the BullMQ Worker `name` option. BullMQ puts that
 * name on the connection (`CLIENT SETNAME <prefix>:<base64 queue>:w:<name>`), where
 * `Queue.getWorkers()` finds it, and on every job it runs (`processedBy`). So the worker
 * registry that BullMQ keeps, Redis's CLIENT LIST, already says which processes serve
 * which queues; the name adds what a reader needs to tell them apart and describe them:
 * `<host>:<pid>:<started, ms since the epoch>:<concurrency>`.
 */
export interface WorkerIdentity {
  host: string;
  pid: number;
  startedAt: number;
  concurrency: number;
}

/** The name of this process's workers: one per process, the same on every queue it serves. */
export function ownWorkerIdentity(concurrency: number, now = Date.now()): WorkerIdentity {
  return { host: hostname(), pid: process.pid, startedAt: now, concurrency };
}

// A client name may hold no space or control character; `:` separates the fields.
const safeHost = (host: string) => host.replace(/[^!-~]|:/g, '-') || 'unknown';

export function workerName(w: WorkerIdentity): string {
  return `${safeHost(w.host)}:${w.pid}:${w.startedAt}:${w.concurrency}`;
}

/** The identity in a worker name of ours; null for another worker's name (any BullMQ worker may serve a queue). */
export function parseWorkerName(name: string): WorkerIdentity | null {
  const m = /^([!-9;-~]+):(\d{1,10}):(\d{1,15}):(\d{1,7})$/.exec(name);
  if (!m) return null;
  return { host: m[1], pid: Number(m[2]), startedAt: Number(m[3]), concurrency: Number(m[4]) };
}

/**
 * A worker's liveness key: written every HEARTBEAT_EVERY_MS with a TTL of HEARTBEAT_TTL_MS.
 * CLIENT LIST drops a worker whose process ends (the kernel closes its sockets, SIGKILL
 * included), but a machine that vanishes closes nothing: Redis keeps its connections until
 * its own TCP keepalive gives up (`tcp-keepalive`, 300 s by default, a server setting a
 * managed Redis may not let us change), and their `idle` says nothing either, since a worker
 * whose every slot is busy sends no command on its named connection for as long as its jobs
 * run. BullMQ keeps no record of a worker's last sign of life, so this key is that record.
 */
export const HEARTBEAT_EVERY_MS = 5000;
/** A worker not heard from for this long leaves GET /workers (docs/http-api.md "GET /workers": within 30 s). */
export const HEARTBEAT_TTL_MS = 25000;
