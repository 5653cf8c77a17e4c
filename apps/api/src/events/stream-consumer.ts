import type { ChainableCommander } from 'ioredis';
import type { Gap, StreamEntry } from './streams';

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
