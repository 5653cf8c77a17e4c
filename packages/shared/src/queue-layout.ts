/*
 * Where each job type's queues live on a Redis Cluster (docs/scaling-out.md, "Queue groups").
 *
 * BullMQ needs every key of one queue in one cluster slot, which a hash tag in the prefix
 * gives. Today's layout, and the default, is one tag for every queue: one master does all
 * the queue work. A *group* is a set of queues with a hash tag of its own, so groups can
 * land on different masters; a *sharded* type is N queues (`echo~1` ... `echo~N`) whose
 * jobs are spread by id, each shard in a group of its own unless QUEUE_GROUPS places it.
 *
 * Two names matter below: a job *type* (what clients submit, job.name) and a *queue*
 * (BullMQ's queue name: the type itself, or `<type>~<k>` for shard k of a sharded type).
 */

/** The group of every queue that QUEUE_GROUPS does not name (and of the callbacks queue). */
export const DEFAULT_GROUP = 'default';

/** What QUEUE_GROUPS and QUEUE_SHARDS say, parsed (config.ts). */
export interface LayoutSpec {
  /** Named groups, each with the queues (types, or shards `type~k`) it holds. */
  groups: readonly { name: string; queues: readonly string[] }[];
  /** Types split into more than one queue, and how many. */
  shards: Readonly<Record<string, number>>;
}

export const EMPTY_LAYOUT: LayoutSpec = { groups: [], shards: {} };

export interface QueueGroup {
  name: string;
  /** BullMQ prefix of the group's queues, e.g. `{aj}` or `{aj:hot}`; its hash tag picks the slot. */
  prefix: string;
}

export interface QueueLayout {
  /** Every group, the default first. */
  groups: readonly QueueGroup[];
  /** The queues of `type`: `[type]`, or its shards `type~1` ... `type~N`. */
  queuesOf(type: string): string[];
  /** The queue that holds job `id` of `type` (a shard chosen by the id's hash; a schedule's run: the first shard). */
  queueOf(type: string, id: string): string;
  /** The job type of a queue (`echo~2` → `echo`). */
  typeOfQueue(queue: string): string;
  /** The group of a queue. */
  groupOfQueue(queue: string): QueueGroup;
  /** The distinct groups that hold any queue of `types`, in group order (flows: more than one cannot be one flow). */
  groupsOf(types: readonly string[]): QueueGroup[];
}

/** Separates a type from its shard number in a queue name; job types never contain it ([a-z0-9._-]). */
export const SHARD_MARK = '~';

/**
 * BullMQ names a job scheduler's runs `repeat:<scheduler>:<ms>` and adds them to the
 * scheduler's queue; schedules of a sharded type live in its first shard (schedules/), so
 * that is where a run's id leads.
 */
const SCHEDULED_RUN = 'repeat:';

export const shardQueue = (type: string, k: number) => `${type}${SHARD_MARK}${k}`;

/** FNV-1a, 32 bits: cheap, and the same in every process, so any process finds a job's shard from its id. */
export function shardIndex(id: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % n;
}

/**
 * The layout for one namespace. `own` is the namespace's key root (`<ns>aj`): the default
 * group keeps today's prefix `{<own>}`, a named group gets `{<own>:<name>}`, and a shard
 * no group names gets a group of its own named after its queue.
 */
export function createLayout(own: string, spec: LayoutSpec = EMPTY_LAYOUT): QueueLayout {
  const defaultGroup: QueueGroup = { name: DEFAULT_GROUP, prefix: `{${own}}` };
  const groups: QueueGroup[] = [defaultGroup];
  const byQueue = new Map<string, QueueGroup>();
  const named = (name: string) => {
    const found = groups.find((x) => x.name === name);
    if (found) return found;
    const g = { name, prefix: `{${own}:${name}}` };
    groups.push(g);
    return g;
  };
  for (const g of spec.groups) for (const q of g.queues) byQueue.set(q, named(g.name));
  for (const [type, n] of Object.entries(spec.shards)) {
    for (let k = 1; k <= n; k++) {
      const q = shardQueue(type, k);
      if (!byQueue.has(q)) byQueue.set(q, named(q));
    }
  }
  const shardsOf = (type: string) => spec.shards[type] ?? 1;
  const queuesOf = (type: string) => {
    const n = shardsOf(type);
    return n <= 1 ? [type] : Array.from({ length: n }, (_, k) => shardQueue(type, k + 1));
  };
  const groupOfQueue = (queue: string) => byQueue.get(queue) ?? defaultGroup;
  return Object.freeze({
    groups: Object.freeze(groups),
    queuesOf,
    queueOf(type: string, id: string) {
      const n = shardsOf(type);
      if (n <= 1) return type;
      return shardQueue(type, id.startsWith(SCHEDULED_RUN) ? 1 : shardIndex(id, n) + 1);
    },
    typeOfQueue(queue: string) {
      const at = queue.indexOf(SHARD_MARK);
      return at === -1 ? queue : queue.slice(0, at);
    },
    groupOfQueue,
    groupsOf(types: readonly string[]) {
      const found = new Set(types.flatMap((t) => queuesOf(t).map(groupOfQueue)));
      return groups.filter((g) => found.has(g));
    },
  });
}

/**
 * Parses QUEUE_GROUPS (`hot=hash,sleep;io=http.request`) and QUEUE_SHARDS (`echo=3`)
 * against the known job types. Returns the spec, or the reasons it is wrong, each
 * naming the variable and the entry, so a typo stops the process at start-up.
 */
export function parseLayout(groupsText: string, shardsText: string, knownTypes: readonly string[]): { spec: LayoutSpec } | { errors: string[] } {
  const errors: string[] = [];
  const known = new Set(knownTypes);
  const typeList = knownTypes.join(', ');

  const shards: Record<string, number> = {};
  for (const entry of split(shardsText, ',')) {
    const m = /^([a-z0-9._-]+)=(\d{1,3})$/.exec(entry);
    if (!m) {
      errors.push(`QUEUE_SHARDS: "${entry}" is not type=N (e.g. echo=3)`);
      continue;
    }
    const [, type, count] = m;
    const n = Number(count);
    if (!known.has(type)) errors.push(`QUEUE_SHARDS: unknown job type "${type}"; known types: ${typeList}`);
    else if (n < 1 || n > 64) errors.push(`QUEUE_SHARDS: ${type}=${count}: the number of shards must be 1 to 64`);
    else if (type in shards) errors.push(`QUEUE_SHARDS: ${type} is given twice`);
    else if (n > 1) shards[type] = n;
  }

  const groups: { name: string; queues: string[] }[] = [];
  const placed = new Map<string, string>();
  for (const entry of split(groupsText, ';')) {
    const m = /^([^=]*)=(.*)$/.exec(entry);
    const name = m?.[1].trim() ?? '';
    if (!m || !/^[a-z0-9_-]{1,32}$/.test(name)) {
      errors.push(`QUEUE_GROUPS: "${entry}" is not name=type,type,... with a name of a-z, 0-9, _ and - (e.g. hot=hash,sleep)`);
      continue;
    }
    if (name === DEFAULT_GROUP) {
      errors.push(`QUEUE_GROUPS: "${DEFAULT_GROUP}" is the group of every type not named; it cannot be listed`);
      continue;
    }
    if (groups.some((g) => g.name === name)) {
      errors.push(`QUEUE_GROUPS: group "${name}" is given twice`);
      continue;
    }
    const queues = split(m[2], ',');
    if (queues.length === 0) errors.push(`QUEUE_GROUPS: group "${name}" names no type`);
    for (const q of queues) {
      const at = q.indexOf(SHARD_MARK);
      const type = at === -1 ? q : q.slice(0, at);
      const n = shards[type] ?? 1;
      if (!known.has(type)) errors.push(`QUEUE_GROUPS: group "${name}": unknown job type "${type}"; known types: ${typeList}`);
      else if (at === -1 && n > 1)
        errors.push(
          `QUEUE_GROUPS: group "${name}": ${type} is split into ${n} shards (QUEUE_SHARDS); place its shards ${shardQueue(type, 1)} ... ${shardQueue(type, n)} instead`,
        );
      else if (at !== -1 && !(/^\d+$/.test(q.slice(at + 1)) && Number(q.slice(at + 1)) >= 1 && Number(q.slice(at + 1)) <= n))
        errors.push(
          `QUEUE_GROUPS: group "${name}": "${q}" is no shard; ${n > 1 ? `${type} has shards ${shardQueue(type, 1)} ... ${shardQueue(type, n)}` : `${type} is not split (QUEUE_SHARDS)`}`,
        );
      else if (placed.has(q)) errors.push(`QUEUE_GROUPS: ${q} is in two groups ("${placed.get(q)}" and "${name}")`);
      else placed.set(q, name);
    }
    groups.push({ name, queues: queues.filter((q) => placed.get(q) === name) });
  }
  return errors.length > 0 ? { errors } : { spec: { groups, shards } };
}

function split(text: string, sep: string): string[] {
  return text
    .split(sep)
    .map((s) => s.trim())
    .filter(Boolean);
}
