import { createHash } from 'node:crypto';

/**
 * Every Redis key and channel name, in one place. With an empty namespace the names
 * are the documented ones (`jobs:events`, `task:prodcons:queue`, ...); a namespace
 * prefixes all of them so that test files never see each other.
 *
 * On a Redis Cluster every multi-key command, script and pipeline must stay in one
 * slot (pipelines: on one node, see slot-routing.ts), hence the `{hash tags}`:
 * - a job's record, tombstone, event log and cancel flag share the tag `{id}`: the
 *   upsert and reopen scripts touch them together, and jobs spread over all masters;
 * - BullMQ's keys share `{<ns>aj}` (BullMQ runs multi-key scripts within a queue and
 *   requires its prefix to be tagged); the tag is common to all queues, so all of
 *   BullMQ sits in one slot, on one master. A tag per queue would spread it, but would
 *   rename every queue key of a running system; one master carries it well (see
 *   docs/scaling-out.md);
 * - the idempotency key, the two list indexes and the seed list are single keys, only
 *   ever used by single-key commands (or a one-key script), so their slot is their own.
 *
 * Channels use classic PUBLISH/SUBSCRIBE, not sharded pub/sub (SPUBLISH, Redis 7): a
 * cluster relays a classic message to every node, so one subscriber connection per
 * API process (to any node) hears every job's events, and `redis-cli SUBSCRIBE
 * jobs:events` works on any node as API.md promises. Sharded pub/sub would pin the one
 * events channel to one slot, and the upsert script, which publishes atomically with
 * the record write in the job's own slot, could not SPUBLISH to it from another node
 * (Redis refuses a script's "non local key"). The relay costs cluster-bus traffic per
 * event, fine for a few dozen masters.
 * A job's events stay in order (its script always runs on the same node); events of
 * different jobs, or messages sent to different nodes, may interleave differently.
 */
export interface Keyspace {
  /** BullMQ prefix; hash-tagged so each queue's keys share a cluster slot. */
  bullPrefix: string;
  record(id: string): string;
  tombstone(id: string): string;
  eventLog(id: string): string;
  /** Idempotency key of a client; hashed, so any string the client sends makes a safe key name. */
  idempotency(clientKey: string): string;
  /** Every job by submit time (newest last), for GET /jobs. */
  jobIndex: string;
  /** The jobs of one type by submit time. */
  typeIndex(type: string): string;
  /** Set while a cancel of the job is pending; the upsert script refuses non-terminal writes then. */
  cancelFlag(id: string): string;
  eventsChannel: string;
  /** Requests to every worker, such as "cancel job X wherever it runs". */
  controlChannel: string;
  prodconsList: string;
  pubsubChannel: string;
  /** Prefix of every key of ours, for cleanup in tests. */
  ownPattern: string;
}

export function createKeyspace(namespace = ''): Keyspace {
  const ns = namespace ? `${namespace}:` : '';
  const own = `${ns}aj`;
  return Object.freeze({
    bullPrefix: `{${own}}`,
    record: (id: string) => `${own}:job:{${id}}`,
    tombstone: (id: string) => `${own}:tomb:{${id}}`,
    eventLog: (id: string) => `${own}:ev:{${id}}`,
    idempotency: (clientKey: string) => `${own}:idem:{${createHash('sha256').update(clientKey).digest('hex')}}`,
    jobIndex: `${own}:idx:all`,
    typeIndex: (type: string) => `${own}:idx:type:${type}`,
    cancelFlag: (id: string) => `${own}:cancel:{${id}}`,
    eventsChannel: `${ns}jobs:events`,
    controlChannel: `${ns}jobs:control`,
    prodconsList: `${ns}task:prodcons:queue`,
    pubsubChannel: `${ns}task:pubsub:channel`,
    ownPattern: `${own}:*`,
  });
}
