import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers as builtIn } from '../apps/worker/src/handlers/index';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { createWorker } from '../apps/worker/src/worker';
import { createLogger, createRedis, closeRedis, ConfigError } from '@async-jobs/shared';
import { createTestContext, enqueue, watchEvents, type EventWatch } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let worker: RunningWorker;
let watch: EventWatch;

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;

/** Handlers that misbehave in every way a handler can, plus the real echo and sleep. */
const poison = new Map<string, JobHandler>([
  ['echo', builtIn.get('echo')!],
  ['sleep', builtIn.get('sleep')!],
  ['throws-string', { name: 'throws-string', run: () => Promise.reject('boom') }],
  ['returns-undefined', { name: 'returns-undefined', run: () => undefined }],
  ['returns-circular', { name: 'returns-circular', run: () => circular }],
  ['returns-function', { name: 'returns-function', run: () => ({ fn: () => 1 }) }],
  ['returns-bigint', { name: 'returns-bigint', run: () => ({ n: 10n }) }],
  ['returns-huge', { name: 'returns-huge', run: () => ({ big: 'x'.repeat(2000) }) }],
  [
    'throws-sync',
    {
      name: 'throws-sync',
      run: () => {
        throw new TypeError('sync throw');
      },
    },
  ],
]);

beforeAll(async () => {
  // The relay reads only the queues it is told of: these test types are not built in.
  watch = await watchEvents(ctx, [...poison.keys()]);
  worker = await startWorker(ctx, { WORKER_CONCURRENCY: '2', MAX_RESULT_BYTES: '1000' }, poison);
});

afterAll(async () => {
  await worker?.close();
  await watch?.close();
  await ctx.cleanup();
});

async function run(type: string, input: unknown, opts: Parameters<typeof enqueue>[3] = {}) {
  const id = await enqueue(ctx, type, input, opts);
  await watch.terminal(id);
  return { id, record: (await worker.record(id))! };
}

async function echoStillWorks() {
  const { record } = await run('echo', { still: 'alive' });
  expect(record.state).toBe('completed');
  expect(record.result).toEqual({ still: 'alive' });
}

describe('a misbehaving handler fails its job, never the worker', () => {
  it.each([
    ['throws-string', 'HandlerError', /^handler threw a non-Error value: "boom"$/],
    ['returns-undefined', 'InvalidResultError', /returned undefined/],
    ['returns-circular', 'InvalidResultError', /circular reference/],
    ['returns-function', 'InvalidResultError', /property "fn" is a function/],
    ['returns-bigint', 'InvalidResultError', /property "n" is a bigint/],
    ['returns-huge', 'InvalidResultError', /over MAX_RESULT_BYTES \(1000\)/],
    ['throws-sync', 'TypeError', /^sync throw$/],
  ])('%s ends failed with %s, and echo still completes after it', async (type, name, message) => {
    const { record } = await run(type, {});
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe(name);
    expect(record.error?.message).toMatch(message);
    expect(JSON.stringify(record)).not.toMatch(/\n\s+at /);
    await echoStillWorks();
  });

  it('does not retry a result that cannot be stored', async () => {
    const { id, record } = await run('returns-circular', {}, { attempts: 3 });
    expect(record.attempts).toEqual({ made: 1, max: 3 });
    expect(watch.of(id).some((e) => e.event === 'retrying')).toBe(false);
  });

  it('retries a thrown non-Error like any other failure', async () => {
    const { id, record } = await run('throws-string', {}, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    expect(record.state).toBe('failed');
    expect(record.attempts).toEqual({ made: 2, max: 2 });
    expect(watch.of(id).filter((e) => e.event === 'retrying')).toHaveLength(1);
  });
});

describe('input that bypassed the API', () => {
  it('fails without retry when it does not match the type schema', async () => {
    const { id, record } = await run('sleep', { ms: 'soon' }, { attempts: 3 });
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('InvalidInputError');
    expect(record.error?.message).toMatch(/^invalid data for sleep: ms: /);
    expect(record.attempts).toEqual({ made: 1, max: 3 });
    // Added by another producer: the relay announces it, and its one attempt ends it.
    expect(watch.of(id).map((e) => e.event)).toEqual(['submitted', 'active', 'failed']);
    await echoStillWorks();
  });

  it('fails without retry when the per-attempt timeout is not a positive integer', async () => {
    const { record } = await run('sleep', { ms: 1 }, { attempts: 3, timeout: -5 });
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('InvalidInputError');
    expect(record.attempts.made).toBe(1);
  });

  it('fails without retry when the per-attempt timeout is 0 (the API refuses it; another producer may write it)', async () => {
    const { record } = await run('sleep', { ms: 1 }, { attempts: 3, timeout: 0 });
    expect(record.state).toBe('failed');
    expect(record.error).toMatchObject({ name: 'InvalidInputError', message: 'timeout must be a positive integer (ms)' });
    expect(record.attempts.made).toBe(1);
  });
});

describe('startup', () => {
  it('refuses an unknown name in WORKER_TYPES, naming it', async () => {
    const connection = createRedis(ctx.config(), 'blocking');
    try {
      const make = () =>
        createWorker({
          config: ctx.config({ WORKER_TYPES: 'echo,nope' }),
          connection,
          redis: connection,
          logger: createLogger('t', 'silent'),
        });
      expect(make).toThrow(ConfigError);
      expect(make).toThrow(/WORKER_TYPES: unknown job type "nope"/);
    } finally {
      await closeRedis(connection);
    }
  });
});
