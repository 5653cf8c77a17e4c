import { createHash } from 'node:crypto';
import { createLayout, EMPTY_LAYOUT, type LayoutSpec, type QueueGroup, type QueueLayout } from './queue-layout';

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
 * - the list index behind GET /jobs, one sorted set per type and group;
 * - the relay's stream positions and the set of jobs that await a callback, per group.
 * With queue groups (queue-layout.ts) each group has a hash tag of its own, and each of
 * these keys lives under the tag of the jobs it is written with. The relay's lease is one
 * for all groups, under the default group's tag.
 * The idempotency keys and the seed list are single keys with slots of their own.
 *
 * Channels use classic PUBLISH/SUBSCRIBE: a cluster relays a classic message to every
 * node, so `redis-cli SUBSCRIBE jobs:events` works on any node, as docs/http-api.md promises.
 */
export interface Keyspace {
  /** Which queues each type has and which group (hash tag) each queue is in: queue-layout.ts. */
  layout: QueueLayout;
  /** Every group, the default first (shorthand for layout.groups). */
  groups: readonly QueueGroup[];
  /** The queues of `type`: `[type]`, or `type~1` ... `type~N` when it is sharded (QUEUE_SHARDS). */
  queuesOf(type: string): string[];
  /** The queue that holds (or will hold) job `id` of `type`. */
  queueOf(type: string, id: string): string;
  /**
   * The distinct groups holding any queue of `types`. BullMQ needs every job of one flow in
   * one slot: a flow whose types give more than one group cannot be added (400, naming them).
   */
  groupsOf(types: readonly string[]): QueueGroup[];
  /** BullMQ prefix of `queue` (a type or a shard queue); the hash tag in it is its group's. */
  prefixOf(queue: string): string;
  /** BullMQ's hash of job `id` of `type`, in the queue that holds it. */
  job(type: string, id: string): string;
  /** BullMQ's event stream of `queue` (a type, or one shard of it). */
  events(queue: string): string;
  /** Our tombstone of job `id` of `type`, beside BullMQ's hash, in its queue's slot. */
  tombstone(type: string, id: string): string;
  /** Idempotency key of a client; hashed, so any string the client sends makes a safe key name. */
  idempotency(clientKey: string): string;
  /** The jobs of one type in one group by submit time (newest last), for GET /jobs; written with each job. */
  typeIndex(group: QueueGroup, type: string): string;
  /** Ids of the group's jobs submitted with a callbackUrl whose outcome has not been handed to delivery yet. */
  callbacksDue(group: QueueGroup): string;
  /** A worker process's heartbeat (worker-identity.ts), by its BullMQ worker name; a key of its own slot. */
  workerHeartbeat(name: string): string;
  /** Held by the one API process that relays stream events to `jobs:events` (one for all groups). */
  relayLease: string;
  /** Stream id per queue of the group up to which events were relayed. */
  relayPositions(group: QueueGroup): string;
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

/**
 * `layout`: QUEUE_GROUPS and QUEUE_SHARDS parsed (config.ts `layoutSpecOf(config)`); none
 * gives today's layout, every queue under one hash tag.
 */
export function createKeyspace(namespace = '', layout: LayoutSpec = EMPTY_LAYOUT): Keyspace {
  const ns = namespace ? `${namespace}:` : '';
  const own = `${ns}aj`;
  const lay = createLayout(own, layout);
  const prefixOf = (queue: string) => lay.groupOfQueue(queue).prefix;
  const base = (type: string, id: string) => {
    const q = lay.queueOf(type, id);
    return `${prefixOf(q)}:${q}:${id}`;
  };
  return Object.freeze({
    layout: lay,
    groups: lay.groups,
    queuesOf: lay.queuesOf,
    queueOf: lay.queueOf,
    groupsOf: lay.groupsOf,
    prefixOf,
    job: base,
    events: (queue: string) => `${prefixOf(queue)}:${queue}:events`,
    tombstone: (type: string, id: string) => `${base(type, id)}:tomb`,
    idempotency: (clientKey: string) => `${own}:idem:{${createHash('sha256').update(clientKey).digest('hex')}}`,
    // `~` cannot start a queue name of ours (types are [a-z0-9._-]), so these never meet BullMQ's keys.
    typeIndex: (g: QueueGroup, type: string) => `${g.prefix}:~idx:type:${type}`,
    callbacksDue: (g: QueueGroup) => `${g.prefix}:~callbacks-due`,
    workerHeartbeat: (name: string) => `${own}:worker:${name}`,
    relayLease: `${lay.groups[0].prefix}:~relay:lease`,
    relayPositions: (g: QueueGroup) => `${g.prefix}:~relay:positions`,
    scheduleLock: (name: string) => `${own}:schedule-lock:${name}`,
    eventsChannel: `${ns}jobs:events`,
    controlChannel: `${ns}jobs:control`,
    prodconsList: `${ns}task:prodcons:queue`,
    pubsubChannel: `${ns}task:pubsub:channel`,
    ownPattern: `${own}:*`,
  });
}
