import type { Logger, RedisClient } from '@async-jobs/shared';
import { settleWithin } from './settle-within';
import type { Pace, Probed, StreamConsumer } from './stream-consumer';
import { READ_COUNT, readAndProbe, type ReadResult } from './stream-read';
import { wakeableSleep } from './wakeable-sleep';
import { BLOCK_MS, compareIds, missedAfter, readReply, streamPositions, type Gap, type Held, type StreamEntry, type StreamSet } from './streams';

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
  /** Called after a read failed or the connection came back (Redis away): a consumer may have missed entries, or Redis lost them. */
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
  // A reconnect may reach a Redis that restarted empty or from an older snapshot: the read in
  // flight is sent again (ioredis) and waits for ids that stream may never reach, while the jobs
  // waited on are gone. Consumers are told as after a failed read, so that waiters read again.
  let wasReady = blocking.status === 'ready';
  const onReady = () => {
    if (wasReady && !closed) for (const l of failureListeners) l();
    wasReady = true;
  };
  blocking.on('ready', onReady);

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
        blocking.off('ready', onReady);
        wake();
        // The read in flight ends within its block time, or when the owner drops the connection.
        await settleWithin(loop, 50);
      })();
      return closing;
    },
  };
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
