import { describe, expect, it } from 'vitest';
import { createOwnJobs } from '../apps/api/src/events/own-jobs';

describe('the jobs an API process remembers submitting', () => {
  it('knows its own jobs and which asked for a callback; anything else may have one', () => {
    const own = createOwnJobs(10);
    own.note('a', false);
    own.note('b', true);
    expect([own.isOwn('a'), own.isOwn('b'), own.isOwn('x')]).toEqual([true, true, false]);
    expect([own.mayHaveCallback('a'), own.mayHaveCallback('b'), own.mayHaveCallback('x')]).toEqual([false, true, true]);
  });

  it('forgets a job that ended or whose submit failed, wherever it sits', () => {
    const own = createOwnJobs(4);
    for (const id of ['a', 'b', 'c']) own.note(id, false);
    own.ended('a');
    own.forget(['c']);
    expect([own.isOwn('a'), own.isOwn('b'), own.isOwn('c')]).toEqual([false, true, false]);
    expect(own.mayHaveCallback('a')).toBe(true);
  });

  it('holds at most its bound, dropping the oldest first and keeping the newest', () => {
    const own = createOwnJobs(100);
    const ids = Array.from({ length: 1000 }, (_, i) => `job-${i}`);
    for (const id of ids) own.note(id, false);
    const known = ids.filter((id) => own.isOwn(id));
    expect(known.length).toBeLessThanOrEqual(100);
    expect(known.length).toBeGreaterThanOrEqual(50);
    // What is kept is a run of the newest: the last one noted and no old one.
    expect(known.at(-1)).toBe('job-999');
    expect(known[0]).toBe(`job-${1000 - known.length}`);
  });

  it('noting a kept job again keeps it once, with its newer flag', () => {
    const own = createOwnJobs(4);
    own.note('a', false);
    own.note('b', false);
    own.note('a', true);
    expect(own.mayHaveCallback('a')).toBe(true);
    own.note('c', false);
    own.note('d', false);
    expect(own.isOwn('a')).toBe(true);
  });
});
