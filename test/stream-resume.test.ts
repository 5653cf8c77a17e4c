import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createStreamResumes, type StreamResumes } from '../apps/api/src/events/stream-resume';
import { createTestContext } from './helpers';

/**
 * The reads behind event-stream resumes (GET /jobs/:id/events with Last-Event-ID), on a real
 * stream shaped as BullMQ writes it: resumes that come together share reads, and each still
 * gets every entry of its job after its id, up to the moment it asked.
 */
const ctx = createTestContext();
const queue = 'echo';
const stream = ctx.keys.events(ctx.keys.queueOf(queue, 'x'));
let resumes: StreamResumes | undefined;

afterEach(async () => {
  resumes?.close();
  vi.restoreAllMocks();
  await ctx.redis.del(stream);
});
afterAll(() => ctx.cleanup());

const add = async (jobId: string, event: string, ...more: string[]) => (await ctx.redis.xadd(stream, '*', 'event', event, 'jobId', jobId, ...more)) as string;
const ids = (list: { id: string }[]) => list.map((e) => e.id);

/** Each job's entries after `after`, read straight from the stream. */
async function truth(after: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [id, flat] of (await ctx.redis.xrange(stream, `(${after}`, '+')) as [string, string[]][]) {
    const jobId = flat[flat.indexOf('jobId') + 1];
    out.set(jobId, [...(out.get(jobId) ?? []), id]);
  }
  return out;
}

describe('stream resumes', () => {
  it("answers resumes that come together from one read of the stream, each with its own job's entries", async () => {
    const start = await add('j0', 'added');
    for (let round = 0; round < 5; round++) for (let j = 0; j < 20; j++) await add(`j${j}`, round === 4 ? 'completed' : 'progress', 'data', String(round));
    const expected = await truth(start);
    resumes = createStreamResumes(ctx.redis);
    const xrange = vi.spyOn(ctx.redis, 'xrange');

    const got = await Promise.all(Array.from({ length: 20 }, (_, j) => resumes!.read(stream, queue, 'echo', `j${j}`, start)));

    for (const [j, r] of got.entries()) {
      expect(ids(r.after)).toEqual(expected.get(`j${j}`));
      expect(r.after.every((e) => e.jobId === `j${j}` && e.queue === queue && e.type === 'echo')).toBe(true);
      expect(r.oldest).toBe(start);
    }
    // Two reads of two XRANGEs each (the oldest entry, what follows the id): the first resume's,
    // and one for all that asked while it ran. Each resume reading for itself made 40.
    expect(xrange.mock.calls.length).toBeLessThanOrEqual(4);
  });

  it('gives a later resume what the stream gained since the entries kept were read', async () => {
    const start = await add('a', 'added');
    await add('a', 'active');
    resumes = createStreamResumes(ctx.redis);
    expect(ids((await resumes.read(stream, queue, 'echo', 'a', start)).after)).toHaveLength(1);

    const done = await add('a', 'completed', 'returnvalue', '{}');
    const again = await resumes.read(stream, queue, 'echo', 'a', start);
    expect(ids(again.after)).toEqual((await truth(start)).get('a'));
    expect(ids(again.after).at(-1)).toBe(done);
  });

  it('gives a resume from an older id than those kept the entries before them too, in stream order', async () => {
    const first = await add('b', 'added');
    const middle = await add('b', 'waiting');
    await add('c', 'added');
    await add('b', 'active');
    resumes = createStreamResumes(ctx.redis);
    // Keeps what follows `middle`; the next resume reaches further back.
    await resumes.read(stream, queue, 'echo', 'c', middle);

    const older = await resumes.read(stream, queue, 'echo', 'b', first);
    expect(ids(older.after)).toEqual((await truth(first)).get('b'));
    expect(older.after.map((e) => e.event)).toEqual(['waiting', 'active']);
  });

  it('does not answer a resume from a read that Redis ran before the resume asked', async () => {
    const start = await add('d', 'added');
    resumes = createStreamResumes(ctx.redis);
    const early = resumes.read(stream, queue, 'echo', 'd', start);
    // On the same connection, so Redis runs it after the early read and before the late one.
    const progress = await add('d', 'progress', 'data', '50');
    const late = resumes.read(stream, queue, 'echo', 'd', start);

    expect(ids((await early).after)).not.toContain(progress);
    expect(ids((await late).after)).toContain(progress);
  });

  it('fails the resumes of a read that failed, and reads afresh for the next', async () => {
    const start = await add('e', 'added');
    resumes = createStreamResumes(ctx.redis);
    // A key of another type: XRANGE fails on it (WRONGTYPE), as a timed-out read would fail.
    await ctx.redis.del(stream);
    await ctx.redis.set(stream, 'not a stream');
    const failed = await Promise.allSettled([resumes.read(stream, queue, 'echo', 'e', start), resumes.read(stream, queue, 'echo', 'e', start)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);

    await ctx.redis.del(stream);
    await add('e', 'active');
    await add('e', 'completed', 'returnvalue', '{}');
    const after = await resumes.read(stream, queue, 'echo', 'e', start);
    expect(ids(after.after)).toEqual((await truth(start)).get('e'));
    expect(after.after.map((e) => e.event)).toEqual(['active', 'completed']);
  });
});
