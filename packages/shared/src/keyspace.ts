import { createHash } from 'node:crypto';

/**
 * Every Redis key and channel name, in one place. With an empty namespace the names
 * are the documented ones (`jobs:events`, `task:prodcons:queue`, ...); a namespace
 * prefixes all of them so that test files never see each other.
 *
 * A job is BullMQ's job: its hash, its place in the queue's sets and its queue's event
 * stream are the results store (docs/wire-format.md). What we add lives beside BullMQ's
 * keys, under the same `{hash tag}`, so that one script or transaction can touch both on
 * a Redis Cluster:
 * - a tombstone per job, `<prefix>:<type>:<id>:tomb`, written with the job at submit:
 *   it outlives BullMQ's retention, so that 410 (expired) can be told from 404 (never
 *   existed), and it holds what BullMQ has no field for (callback delivery, a cancel
 *   before the job ran). BullMQ's removal deletes the job's own keys, not this one;
 * - the list index behind GET /jobs (every job, and the jobs of one type);
 * - the relay's lease and stream positions, and the set of jobs that await a callback.
 * The idempotency keys and the seed list are single keys with slots of their own.
 *
 * Channels use classic PUBLISH/SUBSCRIBE: a cluster relays a classic message to every
 * node, so `redis-cli SUBSCRIBE jobs:events` works on any node, as API.md promises.
 */
export interface Keyspace {
  /** BullMQ prefix; hash-tagged so each queue's keys share a cluster slot. */
  bullPrefix: string;
  /**
   * BullMQ prefix of the queue of `type`. Today every type shares `bullPrefix`; code that
   * builds a Queue, Worker or FlowProducer node for a type asks here, so that types can
   * later be given hash tags of their own (queue groups on a cluster).
   */
  prefixOf(type: string): string;
  /** BullMQ's hash of job `id` in queue `type`. */
  job(type: string, id: string): string;
  /** BullMQ's event stream of queue `type`. */
  events(type: string): string;
  tombstone(type: string, id: string): string;
  /** Idempotency key of a client; hashed, so any string the client sends makes a safe key name. */
  idempotency(clientKey: string): string;
  /** Every job by submit time (newest last), for GET /jobs. */
  jobIndex: string;
  /** The jobs of one type by submit time. */
  typeIndex(type: string): string;
  /** Ids of jobs submitted with a callbackUrl whose outcome has not been handed to delivery yet. */
  callbacksDue: string;
  /** A worker process's heartbeat (worker-identity.ts), by its BullMQ worker name; a key of its own slot. */
  workerHeartbeat(name: string): string;
  /** Held by the one API process that relays stream events to `jobs:events`. */
  relayLease: string;
  /** Stream id per queue up to which events were relayed. */
  relayPositions: string;
  /** Held for a moment by the request that changes schedule `name`, so that a name is in one type's queue at most. */
  scheduleLock(name: string): string;
  eventsChannel: string;
  /** Requests to every worker, such as "cancel job X wherever it runs". */
  controlChannel: string;
  prodconsList: string;
  pubsubChannel: string;
  /** Prefix of every key of ours outside BullMQ's, for cleanup in tests. */
  ownPattern: string;
}

export function createKeyspace(namespace = ''): Keyspace {
  const ns = namespace ? `${namespace}:` : '';
  const own = `${ns}aj`;
  const bull = `{${own}}`;
  return Object.freeze({
    bullPrefix: bull,
    prefixOf: (_type: string) => bull,
    job: (type: string, id: string) => `${bull}:${type}:${id}`,
    events: (type: string) => `${bull}:${type}:events`,
    tombstone: (type: string, id: string) => `${bull}:${type}:${id}:tomb`,
    idempotency: (clientKey: string) => `${own}:idem:{${createHash('sha256').update(clientKey).digest('hex')}}`,
    // `~` cannot start a queue name of ours (types are [a-z0-9._-]), so these never meet BullMQ's keys.
    jobIndex: `${bull}:~idx:all`,
    typeIndex: (type: string) => `${bull}:~idx:type:${type}`,
    callbacksDue: `${bull}:~callbacks-due`,
    workerHeartbeat: (name: string) => `${own}:worker:${name}`,
    relayLease: `${bull}:~relay:lease`,
    relayPositions: `${bull}:~relay:positions`,
    scheduleLock: (name: string) => `${own}:schedule-lock:${name}`,
    eventsChannel: `${ns}jobs:events`,
    controlChannel: `${ns}jobs:control`,
    prodconsList: `${ns}task:prodcons:queue`,
    pubsubChannel: `${ns}task:pubsub:channel`,
    ownPattern: `${own}:*`,
  });
}
