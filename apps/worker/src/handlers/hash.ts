import { createHash } from 'node:crypto';
import type { jobDefinitions } from '@async-jobs/shared';
import type { z } from 'zod';
import type { JobHandler } from './handler';

type HashInput = z.output<typeof jobDefinitions.hash.input>;
type HashResult = z.output<typeof jobDefinitions.hash.result>;

/**
 * Rounds run in chunks of about this many milliseconds, then the handler yields to
 * the event loop: BullMQ's lock renewal and the abort signal only get a turn then.
 */
const CHUNK_MS = 20;
const PROGRESS_EVERY_MS = 250;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export const hash: JobHandler<HashInput, HashResult> = {
  name: 'hash',
  async run({ text, algorithm, rounds }, ctx) {
    // Round 1 hashes the UTF-8 text; each further round hashes the previous raw digest.
    let digest = createHash(algorithm).update(text, 'utf8').digest();
    let done = 1;
    let lastReport = Date.now();
    while (done < rounds) {
      const chunkEnd = Date.now() + CHUNK_MS;
      while (done < rounds && Date.now() < chunkEnd) {
        // A burst between clock reads keeps Date.now() off the hot path.
        for (let i = 0; i < 256 && done < rounds; i++, done++) digest = createHash(algorithm).update(digest).digest();
      }
      await yieldToEventLoop();
      ctx.signal.throwIfAborted();
      if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = Date.now();
        await ctx.progress(Math.floor((done / rounds) * 100));
      }
    }
    return { digest: digest.toString('hex') };
  },
};
