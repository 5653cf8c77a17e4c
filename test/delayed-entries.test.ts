import { describe, expect, it } from 'vitest';
import { delayedReader } from '../apps/api/src/events/delayed-entries';
import type { StreamEntry } from '../apps/api/src/events/streams';

/** An entry of queue `echo` logged at `ms` (its id's time). */
const entry = (ms: number, event: string, jobId: string): StreamEntry => ({ id: `${ms}-0`, type: 'echo', queue: 'echo', event, jobId, fields: {} });
const iso = (ms: number) => new Date(ms).toISOString();

describe("what a `delayed` entry of BullMQ's stream is", () => {
  it('is the submit right after its added, and a retry after its active, within one batch or across two', () => {
    const reader = delayedReader(['echo']);
    const submit = entry(1000, 'delayed', 'a');
    const first = reader.read([entry(1000, 'added', 'a'), submit, entry(1001, 'active', 'b'), entry(1002, 'progress', 'b')]);
    expect(first.kinds.get(submit)).toBe('submit');
    expect(first.isRetry(submit, null)).toBe(false);
    first.commit();

    const retry = entry(1003, 'delayed', 'b');
    const second = reader.read([entry(1003, 'added', 'c'), retry]);
    expect(second.kinds.get(retry)).toBe('retry');
    expect(second.isRetry(retry, iso(1001))).toBe(true);
  });

  it("is a reschedule for a delayed job the relay saw start, or that never started; a retry for one that started before the relay's first read", () => {
    const reader = delayedReader(['echo']);
    reader.read([entry(10_000, 'added', 'first')]).commit();
    const backoff = entry(20_001, 'delayed', 'b');
    const started = reader.read([entry(20_000, 'active', 'b'), backoff]);
    started.commit();
    expect(started.isRetry(backoff, iso(20_000))).toBe(true);

    const rescheduled = entry(30_000, 'delayed', 'b');
    const neverRan = entry(30_001, 'delayed', 'never');
    const unseen = entry(30_002, 'delayed', 'old');
    const later = reader.read([rescheduled, neverRan, unseen]);
    for (const e of [rescheduled, neverRan, unseen]) expect(later.kinds.get(e)).toBe('unknown');
    // Its last start was seen (its retry's entry came above): the change is the operator's.
    expect(later.isRetry(rescheduled, iso(20_000))).toBe(false);
    expect(later.isRetry(neverRan, null)).toBe(false);
    // Started before the relay's first entry of the stream: its active entry may have been another API's to relay.
    expect(later.isRetry(unseen, iso(9_000))).toBe(true);
  });

  it('reads a batch that is read again (its handling failed) as the first time, until it is committed', () => {
    const reader = delayedReader(['echo']);
    const retry = entry(2001, 'delayed', 'b');
    reader.read([entry(2000, 'active', 'b')]).commit();
    expect(reader.read([retry]).kinds.get(retry)).toBe('retry');
    const again = reader.read([retry]);
    expect(again.kinds.get(retry)).toBe('retry');
    again.commit();
    // Committed: the job no longer runs, so another `delayed` of it is not a retry of that attempt.
    const after = entry(2002, 'delayed', 'b');
    expect(reader.read([after]).kinds.get(after)).toBe('unknown');
  });
});
