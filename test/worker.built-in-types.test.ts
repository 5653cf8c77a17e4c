import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, enqueue, watchEvents, type EventWatch } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let worker: RunningWorker;
let watch: EventWatch;

beforeAll(async () => {
  watch = await watchEvents(ctx);
  worker = await startWorker(ctx, { WORKER_CONCURRENCY: '4' });
});

afterAll(async () => {
  await worker?.close();
  await watch?.close();
  await ctx.cleanup();
});

/** Enqueues, waits for the terminal event, returns the record. */
async function run(type: string, input: unknown) {
  const id = await enqueue(ctx, type, input);
  await watch.terminal(id);
  return { id, record: (await worker.record(id))! };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

describe('built-in job types', () => {
  it('echo completes with its input as the result', async () => {
    const input = { hello: 'world', n: 1, nested: { list: [1, 'two', null] } };
    const { record } = await run('echo', input);
    expect(record.state).toBe('completed');
    expect(record.result).toEqual(input);
    expect(record.attempts).toEqual({ made: 1, max: 1 });
    expect(record.startedAt).not.toBeNull();
    expect(record.finishedAt).not.toBeNull();
    expect(record.error).toBeNull();
  });

  it('sleep reports progress while it sleeps and completes with sleptMs', async () => {
    const { id, record } = await run('sleep', { ms: 1200 });
    expect(record.state).toBe('completed');
    expect(record.result).toEqual({ sleptMs: 1200 });
    const progress = watch
      .of(id)
      .filter((e) => e.event === 'progress')
      .map((e) => e.progress as number);
    const during = progress.filter((p) => p > 0 && p < 100);
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(100);
    const names = watch.of(id).map((e) => e.event);
    // Enqueued straight into BullMQ, with no record: the worker's first write starts the log.
    expect(names.slice(0, 2)).toEqual(['submitted', 'active']);
    expect(names.at(-1)).toBe('completed');
  });

  it('hash of "abc" with sha256 and one round is the known digest', async () => {
    const { record } = await run('hash', { text: 'abc' });
    expect(record.result).toEqual({ digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' });
  });

  it('hash with two rounds hashes the raw bytes of the first digest', async () => {
    const { record } = await run('hash', { text: 'abc', rounds: 2 });
    const expected = sha256(sha256('abc')).toString('hex');
    expect(record.result).toEqual({ digest: expected });
    // Not the digest of the hex text, which is the usual mistake.
    expect(expected).not.toBe(sha256('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad').toString('hex'));
  });

  it('hash supports md5 and sha512', async () => {
    const md5 = await run('hash', { text: 'abc', algorithm: 'md5' });
    expect(md5.record.result).toEqual({ digest: '900150983cd24fb0d6963f7d28e17f72' });
    const sha512 = await run('hash', { text: 'abc', algorithm: 'sha512', rounds: 3 });
    let d = createHash('sha512').update('abc').digest();
    for (let i = 1; i < 3; i++) d = createHash('sha512').update(d).digest();
    expect(sha512.record.result).toEqual({ digest: d.toString('hex') });
  });

  it('hash with many rounds completes, reporting progress on the way', async () => {
    const rounds = 300000;
    const { id, record } = await run('hash', { text: 'x', rounds });
    let d = sha256('x');
    for (let i = 1; i < rounds; i++) d = sha256(d);
    expect(record.result).toEqual({ digest: d.toString('hex') });
    expect(record.state).toBe('completed');
    expect(watch.of(id).some((e) => e.event === 'progress')).toBe(true);
  });
});
