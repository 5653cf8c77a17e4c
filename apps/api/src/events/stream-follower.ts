import { closeRedis, type Keyspace, type Logger, type RedisClient } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';
import { settleWithin } from './settle-within';
import { wakeableSleep } from './wakeable-sleep';
import {
  askHeld,
  BLOCK_MS,
  compareIds,
  heldOf,
  missedAfter,
  quietDuplicate,
  readReply,
  streamPositions,
  streamSets,
  type Gap,
  type Held,
  type StreamEntry,
  type StreamSet,
} from './streams';

/**
 * One reader of the follower's streams (the waiters' notifier, the relay while it holds
 * the lease, …). `positions[i]` is the id of the last entry of `streams[i]` it has had;
 * null while it follows nothing (the follower then neither reads for it nor calls it).
 * The follower advances `positions` before each `take`; a consumer may replace the array
 * at any time (e.g. move back to re-read after a failure) and is then read for from there.
 */
export interface StreamConsumer {
  positions: string[] | null;
  /**
   * The entries after this consumer's positions, in stream order per queue. A promise it
   * returns holds back the read after the next one (so at most one batch is in its hands
   * while the next is read, and a slow consumer slows the reads rather than piling up).
   */
  take(entries: StreamEntry[], probed?: Probed): void | Promise<void>;
  /**
   * Commands to run right behind each read, on the read's own connection: Redis answers
   * them the moment the read returns (a blocked connection runs what follows once it is
   * unblocked), so they tell the state after every entry read, at no round trip of their
   * own. Their answers come to take() in the order queued (an error where one failed).
   */
  probe?(pipe: ChainableCommander): unknown;
  /**
   * How soon news is wanted (default `now`); the follower reads as soon as its most
   * pressed consumer wants. `now`: right after what the last read woke has gone out (a
   * request waits on a job). `soon`: SOON_MS after (a subscriber or a callback can take a
   * few milliseconds; under load each read then takes many entries, not a few). `calm`:
   * CALM_MS after, each read taking what came meanwhile. kick() ends any pause.
   */
  pace?(): Pace;
  /**
   * Told, right after the take() of the read that found it, that entries after its
   * position were trimmed by BullMQ before they were read (streams.ts Gap): whatever they
   * said must be learnt another way.
   */
  missed?(gaps: Gap[]): void;
}

export type Pace = 'now' | 'soon' | 'calm';

/** The answers to a consumer's probes (each a value or the error it got), and what its probe() returned for that read. */
export interface Probed {
  answers: unknown[];
  context: unknown;
}

export interface StreamFollower {
  /** The followed streams, their queues and types; `set.group` is null when it spans every group (one Redis). */
  readonly set: StreamSet;
  readonly streams: readonly string[];
  add(consumer: StreamConsumer): void;
  remove(consumer: StreamConsumer): void;
  /** Tells the follower that a consumer's positions changed (so an idle follower reads). */
  kick(): void;
  /** Where each stream ends now ("0-0" where it does not exist yet). */
  ends(): Promise<string[]>;
  /** Called after a read failed (Redis away): a consumer may have missed entries BullMQ trimmed meanwhile. */
  onReadFailure(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * One blocking XREAD loop per API process over every queue's BullMQ event stream, shared
 * by all its consumers: each entry crosses the wire and is parsed once however many parts
 * of the process need it. A read starts at the earliest position of any consumer; each
 * consumer gets only what lies after its own. While one consumer's batch is handled
 * (the relay's Redis writes), the next read is already under way.
 *
 * `blocking` is used for nothing else (it is blocked up to BLOCK_MS at a time) and is not
 * closed here. To follow streams on several connections (the queue groups of a Cluster,
 * whose streams one XREAD cannot span), run one follower per connection with that
 * connection's streams: createStreamFollowers.
 */
export function createStreamFollower(blocking: RedisClient, set: StreamSet, logger: Logger): StreamFollower {
  const { streams } = set;
  const consumers: StreamConsumer[] = [];
  const failureListeners: (() => void)[] = [];
  let closed = false;
  const { sleep: idle, wake } = wakeableSleep();

  /**
   * Moves each consumer past what the read from `from` brought it (so the next read can
   * start after it) and returns what to hand each one; take() is called by handOver.
   */
  function assign(from: readonly string[], perStream: (StreamEntry[] | undefined)[], held: readonly (Held | undefined)[]): Batch[] {
    const out: Batch[] = [];
    for (const c of consumers) {
      const at = c.positions;
      if (!at) continue;
      let mine: StreamEntry[] | undefined;
      let gaps: Gap[] | undefined;
      for (let i = 0; i < perStream.length; i++) {
        const h = held[i];
        // A consumer behind the read's start is read for next time, and judged then.
        if (h && compareIds(at[i], from[i]) >= 0 && missedAfter(h, at[i])) {
          gaps ??= [];
          gaps.push({ stream: streams[i], queue: set.queues[i], type: set.types[i], after: at[i], firstHeld: h.firstHeld! });
        }
        const entries = perStream[i];
        if (!entries) continue;
        let picked = entries;
        if (at[i] !== from[i]) {
          // Behind the read's start (it moved back meanwhile): the next read starts at it.
          if (compareIds(at[i], from[i]) < 0) continue;
          picked = entries.filter((e) => compareIds(e.id, at[i]) > 0);
          if (picked.length === 0) continue;
        }
        at[i] = picked[picked.length - 1].id;
        mine = mine ? mine.concat(picked) : picked;
      }
      if (mine || gaps) out.push({ consumer: c, positions: at, entries: mine ?? [], gaps });
    }
    return out;
  }

  /** Per stream, when a gap was last logged and how many were found since without a line. */
  const gapLog = new Map<string, { at: number; unlogged: number }>();
  function logGaps(gaps: Iterable<Gap>): void {
    const now = performance.now();
    for (const g of gaps) {
      const last = gapLog.get(g.stream);
      // A burst that outruns the reads finds a gap on read after read: a line per GAP_LOG_MS, with the count.
      if (last && now - last.at < GAP_LOG_MS) {
        last.unlogged++;
        continue;
      }
      logger.warn(
        { stream: g.stream, after: g.after, firstHeld: g.firstHeld, ...(last?.unlogged ? { gapsSinceLastLine: last.unlogged } : {}) },
        'event stream entries were trimmed before they were read; waiters read their jobs again',
      );
      gapLog.set(g.stream, { at: now, unlogged: 0 });
    }
  }

  function handOver(batches: Batch[], probed: Map<StreamConsumer, Probed> | undefined): Promise<void>[] {
    const trimmed = new Map<string, Gap>();
    for (const { gaps } of batches) for (const g of gaps ?? []) if (!trimmed.has(g.stream)) trimmed.set(g.stream, g);
    logGaps(trimmed.values());
    const held: Promise<void>[] = [];
    for (const { consumer: c, positions, entries, gaps } of batches) {
      // Moved or stopped while the batch before was handled (a relay that lost its lease):
      // what was read from its old positions is not its news; its next read starts anew.
      if (c.positions !== positions) continue;
      try {
        if (entries.length > 0) {
          const p = c.take(entries, probed?.get(c));
          if (p) held.push(p.catch(() => undefined));
        }
        if (gaps) c.missed?.(gaps);
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'a stream consumer failed');
      }
    }
    return held;
  }

  /**
   * Which streams to ask, behind the next read, what they still hold. A gap needs BullMQ to
   * append a whole stream's length (about 10,000 entries) between two reads: only after a
   * read that came back full, a pause (calm, a consumer holding reads back, Redis away), or
   * when the read starts somewhere the last one did not reach (a consumer moved back or
   * joined). Back-to-back reads that keep up ask nothing, so news costs no more. The pause
   * counts from when the last read was sent: Redis answered it at some time after that.
   */
  let lastRead = { sentAt: Number.NEGATIVE_INFINITY, full: [] as boolean[], reached: [] as string[] };
  function worthAsking(from: readonly string[], now: number): number[] {
    const paused = now - lastRead.sentAt > PAUSE_MS;
    return from.flatMap((f, i) => (paused || lastRead.full[i] || lastRead.reached[i] !== f ? [i] : []));
  }

  /** Sends the next read from the earliest position of any consumer; undefined while none follows. */
  function startRead(): { from: string[]; sentAt: number; reply: Promise<ReadResult> } | undefined {
    const active = consumers.filter((c) => c.positions);
    if (active.length === 0) return undefined;
    const from = streams.map((_, i) => {
      let min = active[0].positions![i];
      for (let k = 1; k < active.length; k++) {
        const p = active[k].positions![i];
        if (p !== min && compareIds(p, min) < 0) min = p;
      }
      return min;
    });
    const sentAt = performance.now();
    const reply = readAndProbe(
      blocking,
      active.filter((c) => c.probe),
      streams,
      from,
      worthAsking(from, sentAt),
    );
    // Awaited by the loop, unless it is closed first.
    reply.catch(() => undefined);
    return { from, sentAt, reply };
  }

  /** The pace of the most pressed consumer that follows. */
  const pace = (): Pace => {
    let out: Pace = 'calm';
    for (const c of consumers) {
      if (!c.positions) continue;
      const p = c.pace?.() ?? 'now';
      if (p === 'now') return p;
      if (p === 'soon') out = p;
    }
    return out;
  };

  const loop = (async () => {
    let failures = 0;
    let held: Promise<void>[] = [];
    let reading = startRead();
    while (!closed) {
      if (!reading) {
        await idle(BLOCK_MS);
        if (!closed) reading = startRead();
        continue;
      }
      let got: ReadResult;
      const { from, sentAt } = reading;
      try {
        got = await reading.reply;
        failures = 0;
      } catch (err) {
        reading = undefined;
        if (closed) break;
        // Redis away: ioredis reconnects; positions stand, so only what BullMQ trimmed meanwhile is lost.
        if (failures++ === 0) logger.warn({ err: (err as Error).message }, 'event stream read failed; retrying');
        await idle(Math.min(100 * failures, 2000));
        if (!closed) for (const l of failureListeners) l();
        if (!closed) reading = startRead();
        continue;
      }
      reading = undefined;
      if (closed) break;
      const perStream = readReply(got.reply, set);
      lastRead = {
        sentAt,
        full: perStream.map((e) => (e?.length ?? 0) >= READ_COUNT),
        reached: perStream.map((e, i) => (e ? e[e.length - 1].id : from[i])),
      };
      const batches = assign(from, perStream, got.held);
      // The batch before this one must be handled before a third is read.
      if (held.length > 0) await Promise.all(held);
      if (closed) break;
      held = handOver(batches, got.probed);
      // What these entries woke (answers to held requests, their reads of their jobs) goes out
      // before the next read is written; a pause after that, unless news is wanted at once or
      // the read came back full (more is waiting).
      const wanted = pace();
      if (wanted === 'now' || perStream.some((e) => e && e.length >= READ_COUNT)) await new Promise<void>((resolve) => setImmediate(resolve));
      else await idle(wanted === 'soon' ? SOON_MS : CALM_MS);
      if (!closed) reading = startRead();
    }
    await Promise.all(held);
  })();

  let closing: Promise<void> | undefined;
  return {
    set,
    streams,
    add(c) {
      if (!consumers.includes(c)) consumers.push(c);
      wake();
    },
    remove(c) {
      const i = consumers.indexOf(c);
      if (i >= 0) consumers.splice(i, 1);
    },
    kick: () => wake(),
    ends: () => streamPositions(blocking, streams),
    onReadFailure: (l) => void failureListeners.push(l),
    close() {
      closing ??= (async () => {
        closed = true;
        wake();
        // The read in flight ends within its block time, or when the owner drops the connection.
        await settleWithin(loop, 50);
      })();
      return closing;
    },
  };
}

export interface StreamFollowers {
  /** One follower per stream set (streams.ts streamSets): one on one Redis, one per queue group on a Cluster. */
  readonly all: readonly StreamFollower[];
  close(): Promise<void>;
}

/**
 * The followers of `types`' streams: one on `blocking` on one Redis; on a Cluster one per
 * queue group, each on a blocking connection of its own (the first is `blocking`, the
 * others are opened here and closed by close()), so every master holding a group is
 * followed, each stream by one follower only, and news of one group never waits behind
 * another group's block.
 */
export function createStreamFollowers(
  blocking: RedisClient,
  keys: Keyspace,
  types: readonly string[],
  logger: Logger,
  /** Called with each connection before it reads (e.g. to define the scripts its consumers' probes call). */
  prepare?: (connection: RedisClient) => void,
): StreamFollowers {
  const sets = streamSets(blocking, keys, types);
  const connections = sets.map((_, i) => (i === 0 ? blocking : quietDuplicate(blocking)));
  if (prepare) for (const c of connections) prepare(c);
  const all = sets.map((set, i) => createStreamFollower(connections[i], set, set.group ? logger.child({ group: set.group.name }) : logger));
  let closing: Promise<void> | undefined;
  return {
    all,
    close() {
      closing ??= (async () => {
        await Promise.allSettled(all.map((f) => f.close()));
        await Promise.allSettled(connections.slice(1).map((c) => closeRedis(c)));
      })();
      return closing;
    },
  };
}

interface ReadResult {
  reply: unknown;
  probed: Map<StreamConsumer, Probed>;
  /** Per stream, what it held right after the read (askHeld), where asked. */
  held: (Held | undefined)[];
}

/** What one read hands one consumer: the entries after its positions, and any gap before them. */
interface Batch {
  consumer: StreamConsumer;
  /** The positions array assign() advanced: the consumer's own, unless it moved or stopped since. */
  positions: string[];
  entries: StreamEntry[];
  gaps: Gap[] | undefined;
}

/** At most one warning per stream this often about entries trimmed unread; the next says how many were not logged. */
const GAP_LOG_MS = 10_000;

/** Time without a read after which entries may have been trimmed unread (worthAsking). */
const PAUSE_MS = 20;

/** The pause between reads while no consumer wants news before then (StreamConsumer.pace). */
const CALM_MS = 50;

/**
 * The pause between reads while news is wanted soon but not at once: with a subscriber on
 * jobs:events, reading back to back took a few entries a read, and the API spent 67-109 µs
 * of CPU per drained job; 5 ms apart, 40-45 (bench drain with a subscriber, c10 and c50).
 */
const SOON_MS = 5;

/** The follower's XREAD and, behind it in the same write, each consumer's probes; the XREAD's own failure throws. */
async function readAndProbe(
  blocking: RedisClient,
  probing: StreamConsumer[],
  streams: readonly string[],
  from: readonly string[],
  asking: readonly number[],
): Promise<ReadResult> {
  const pipe = blocking.pipeline();
  pipe.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...streams, ...from);
  // Right behind the read, so that what they say is what the read saw.
  for (const i of asking) askHeld(pipe, streams[i], from[i]);
  const spans: [StreamConsumer, number, number, unknown][] = [];
  for (const c of probing) {
    const from = pipe.length;
    const context = c.probe!(pipe);
    spans.push([c, from, pipe.length, context]);
  }
  const replies = (await pipe.exec()) ?? [];
  const [err, reply] = replies[0] ?? [new Error('no reply to XREAD')];
  if (err) throw err;
  const held: (Held | undefined)[] = new Array(streams.length).fill(undefined);
  for (const [k, i] of asking.entries()) held[i] = heldOf(replies[1 + k]?.[0] ?? replies[1 + k]?.[1]);
  const probed = new Map<StreamConsumer, Probed>();
  for (const [c, from, to, context] of spans) probed.set(c, { answers: replies.slice(from, to).map(([e, v]) => e ?? v), context });
  return { reply, probed, held };
}

/**
 * Entries per stream per read: under load one read takes all that piled up meanwhile.
 * Smaller reads (200) made batch submit 10-15 % faster (their entries die young), but they
 * fall further behind a burst: once in nine runs of 10,000 long-polls some jobs' ending
 * entries were never read, and their long-polls were answered only at their timeout, 25 s
 * late. BullMQ trims each stream to about 10,000 entries, and what is trimmed before it is
 * read is not seen (a burst of 10,000 submits, 20,000 entries, outruns even this size).
 */
const READ_COUNT = 2000;
