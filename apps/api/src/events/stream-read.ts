import type { RedisClient } from '@async-jobs/shared';
import type { Probed, StreamConsumer } from './stream-consumer';
import { askHeld, BLOCK_MS, heldOf, type Held } from './streams';

export interface ReadResult {
  reply: unknown;
  probed: Map<StreamConsumer, Probed>;
  /** Per stream, what it held right after the read (askHeld), where asked. */
  held: (Held | undefined)[];
}

/** The follower's XREAD and, behind it in the same write, each consumer's probes; the XREAD's own failure throws. */
export async function readAndProbe(
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
export const READ_COUNT = 2000;
