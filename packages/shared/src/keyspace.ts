import { createHash } from 'node:crypto';

/**
 * Every Redis key and channel name, in one place. With an empty namespace the names
 * are the documented ones (`jobs:events`, `task:prodcons:queue`, ...); a namespace
 * prefixes all of them so that test files never see each other.
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
