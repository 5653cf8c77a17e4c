import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { useSystem } from './system-harness';

const sys = useSystem();
const { ctx } = sys;

const batch = (jobs: unknown, headers: Record<string, string> = {}) => call(sys.api.url, 'POST', '/jobs/batch', { jobs }, headers);

/** Every key but BullMQ's queue meta (written when a queue is first used, not by a submission). */
async function keysBesidesMeta(): Promise<string[]> {
  return (await ctx.allKeys()).filter((k) => !k.endsWith(':meta')).sort();
}

describe('POST /jobs/batch', () => {
  it('rejects the whole batch when one item is invalid, naming every bad item, and writes nothing', async () => {
    const before = await keysBesidesMeta();
    const r = await batch([
      { type: 'echo', data: { ok: true } },
      { type: 'sleep', data: { ms: -1 } },
      { type: 'no.such.type', data: {} },
      { type: 'hash', data: { text: 'fine' } },
    ]);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    const details = r.body.error.details as Array<{ index: number; path: string }>;
    expect(details.map((d) => d.index).sort()).toEqual([1, 2]);
    expect(details.find((d) => d.index === 1)?.path).toBe('jobs.1.data.ms');
    expect(details.find((d) => d.index === 2)?.path).toBe('jobs.2.type');
    expect(await keysBesidesMeta()).toEqual(before);
  });

  it('answers unknown_type, as a flow does, when unknown types are all that is wrong', async () => {
    const r = await batch([
      { type: 'echo', data: {} },
      { type: 'no.such.type', data: {} },
    ]);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('unknown_type');
    expect(r.body.error.details).toEqual([
      { index: 1, path: 'jobs.1.type', message: 'unknown job type "no.such.type"', knownTypes: expect.arrayContaining(['echo']) },
    ]);
  });

  it("lists the problems of an item's data and options together, each with the item's index", async () => {
    const r = await batch([
      { type: 'echo', data: {} },
      { type: 'sleep', data: { ms: -1 }, options: { attempts: 0 } },
      { type: 'hash', data: {}, extra: 1 },
    ]);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    const details = r.body.error.details as Array<{ index: number; path: string }>;
    expect(details.map(({ index, path }) => ({ index, path }))).toEqual([
      { index: 1, path: 'jobs.1.data.ms' },
      { index: 1, path: 'jobs.1.options.attempts' },
      { index: 2, path: 'jobs.2.data.text' },
      { index: 2, path: 'jobs.2' },
    ]);
  });

  it('runs a batch of mixed types to completion, answering in input order', async () => {
    const r = await batch([
      { type: 'hash', data: { text: 'abc' } },
      { type: 'echo', data: { n: 1 } },
      { type: 'sleep', data: { ms: 10 } },
    ]);
    expect(r.status).toBe(202);
    expect(r.body.jobs.map((j: { type: string }) => j.type)).toEqual(['hash', 'echo', 'sleep']);
    expect(r.body.jobs.every((j: { state: string }) => j.state === 'queued')).toBe(true);
    expect(new Set(r.body.jobs.map((j: { id: string }) => j.id)).size).toBe(3);

    const done = await Promise.all(r.body.jobs.map((j: { id: string }) => call(sys.api.url, 'GET', `/jobs/${j.id}/result?wait=20`)));
    expect(done.map((d) => d.status)).toEqual([200, 200, 200]);
    expect(done.map((d) => d.body.state)).toEqual(['completed', 'completed', 'completed']);
    expect(done[0].body.result).toEqual({ digest: createHash('sha256').update('abc').digest('hex') });
    expect(done[1].body.result).toEqual({ n: 1 });
    expect(done[2].body.result).toEqual({ sleptMs: 10 });
  });

  it('accepts 1000 items and refuses 1001', async () => {
    const items = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'echo', data: { i }, options: { delay: 3600000 } }));
    const tooMany = await batch(items(1001));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('validation_failed');
    expect(tooMany.body.error.details[0].path).toBe('jobs');

    const max = await batch(items(1000));
    expect(max.status).toBe(202);
    expect(max.body.jobs).toHaveLength(1000);
    expect(max.body.jobs[999]).toMatchObject({ state: 'delayed', id: expect.any(String) });
    expect(await sys.api.context.queues.get('echo')!.getDelayedCount()).toBe(1000);
  });

  it('refuses an empty batch', async () => {
    const r = await batch([]);
    expect(r.status).toBe(400);
    expect(r.body.error.details[0].path).toBe('jobs');
  });

  it('refuses idempotency keys, in an item or as the header', async () => {
    const inItem = await batch([
      { type: 'echo', data: {} },
      { type: 'echo', data: {}, options: { idempotencyKey: 'k' } },
    ]);
    expect(inItem.status).toBe(400);
    expect(inItem.body.error.details).toEqual([expect.objectContaining({ index: 1, path: 'jobs.1.options.idempotencyKey' })]);
    const header = await batch([{ type: 'echo', data: {} }], { 'Idempotency-Key': 'k' });
    expect(header.status).toBe(400);
    expect(header.body.error.details[0].path).toBe('Idempotency-Key');
  });
});
