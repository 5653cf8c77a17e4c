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
  eventsChannel: string;
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
    eventsChannel: `${ns}jobs:events`,
    prodconsList: `${ns}task:prodcons:queue`,
    pubsubChannel: `${ns}task:pubsub:channel`,
    ownPattern: `${own}:*`,
  });
}
