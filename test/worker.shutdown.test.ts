import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResultsStore } from '@async-jobs/shared';
import { createTestContext, enqueue, waitFor, watchEvents, type EventWatch } from './helpers';
import { useWorkerProcesses } from './worker-harness';

const ctx = createTestContext();
const store = createResultsStore({ redis: ctx.redis, keys: ctx.keys, resultTtlSeconds: 600 });
let watch: EventWatch;
const start = useWorkerProcesses(ctx);

beforeAll(async () => {
  watch = await watchEvents(ctx);
});

afterAll(async () => {
  await watch?.close();
  await ctx.cleanup();
});

describe('worker shutdown on a signal', () => {
  it('lets the active job finish on SIGTERM, then exits 0', async () => {
    // 'job completed' is logged at debug level only.
    const w = start({ WORKER_TYPES: 'sleep', LOG_LEVEL: 'debug' });
    const ready = await w.line((l) => l.msg === 'worker ready');
    expect(ready.types).toEqual(['sleep']);
    const id = await enqueue(ctx, 'sleep', { ms: 1500 });
    await watch.next((e) => e.id === id && e.event === 'active');
    w.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    const record = await store.read(id);
    expect(record?.state).toBe('completed');
    expect(record?.result).toEqual({ sleptMs: 1500 });
    const msgs = w.lines.map((l) => l.msg);
    expect(w.lines.find((l) => l.msg === 'worker shutting down')).toMatchObject({ signal: 'SIGTERM', level: 30 });
    // In order: the signal, the job's end, the last line.
    expect(msgs.indexOf('worker shutting down')).toBeLessThan(msgs.indexOf('job completed'));
    expect(msgs.indexOf('job completed')).toBeLessThan(msgs.indexOf('worker stopped'));
  });

  it('runs more jobs at once than Node warns about for listeners, and SIGTERM lets them all finish', async () => {
    const w = start({ WORKER_TYPES: 'sleep', WORKER_CONCURRENCY: '15' });
    await w.line((l) => l.msg === 'worker ready');
    const ids = await Promise.all(Array.from({ length: 15 }, () => enqueue(ctx, 'sleep', { ms: 1500 })));
    for (const id of ids) await watch.next((e) => e.id === id && e.event === 'active');
    w.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    for (const id of ids) expect((await store.read(id))?.state).toBe('completed');
    expect(w.stderr()).not.toMatch(/MaxListenersExceeded/);
  });

  it('takes no new job once it is shutting down', async () => {
    const w = start({ WORKER_TYPES: 'sleep,echo' });
    await w.line((l) => l.msg === 'worker ready');
    const id = await enqueue(ctx, 'sleep', { ms: 800 });
    await watch.next((e) => e.id === id && e.event === 'active');
    w.kill('SIGINT');
    await w.line((l) => l.msg === 'worker shutting down');
    const late = await enqueue(ctx, 'echo', { late: true });
    expect(await w.exited).toBe(0);
    expect((await store.read(id))?.state).toBe('completed');
    // Not run: back in its queue, no attempt counted. (A fetch already blocked in Redis when the
    // worker paused may hand it out; the worker then puts it back, and BullMQ's events show that.)
    expect(await store.read(late)).toMatchObject({ state: 'queued', result: null, attempts: { made: 0 } });
    expect(watch.of(late).map((e) => e.event)).not.toContain('completed');
    // And the next worker runs it.
    start({ WORKER_TYPES: 'echo' });
    expect((await watch.terminal(late)).event).toBe('completed');
  });

  it('exits at once, 130, on a second Ctrl-C pressed later, and not on the SIGINT and SIGTERM one Ctrl-C brings', async () => {
    const w = start({ WORKER_TYPES: 'sleep', SHUTDOWN_GRACE_MS: '60000' });
    await w.line((l) => l.msg === 'worker ready');
    const id = await enqueue(ctx, 'sleep', { ms: 60000 });
    await watch.next((e) => e.id === id && e.event === 'active');
    // One Ctrl-C under npm: the terminal's SIGINT and npm's passing it on, at once, and what
    // our launcher passes on (SIGTERM). None of these is a second Ctrl-C.
    w.kill('SIGINT');
    w.kill('SIGINT');
    await w.line((l) => l.msg === 'worker shutting down');
    w.kill('SIGTERM');
    // (Two SIGINTs sent at once may reach it as one: the kernel does not queue a pending signal.)
    await w.line((l) => l.msg === 'already shutting down' && l.signal === 'SIGTERM');
    // A person pressing it again, later.
    await new Promise((r) => setTimeout(r, 600));
    w.kill('SIGINT');
    expect(await w.exited).toBe(130);
    expect(w.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('interrupted again'))).toMatchObject({ level: 40 });
    // Not handed back (that is what waiting would do): BullMQ still counts it active, for stall recovery.
    expect((await store.read(id))?.state).toBe('active');
  });

  it('past SHUTDOWN_GRACE_MS hands the job back to its queue, so that restarts never fail it, and the next worker runs it', async () => {
    // Debug: 'job completed' is logged at debug level only.
    const fast = { STALLED_INTERVAL_MS: '500', LOCK_DURATION_MS: '1000', WORKER_TYPES: 'sleep', LOG_LEVEL: 'debug' };
    const id = await enqueue(ctx, 'sleep', { ms: 2500 });
    const queue = ctx.keys.queueOf('sleep', id);
    const jobKey = `${ctx.keys.prefixOf(queue)}:${queue}:${id}`;
    // More restarts than BullMQ's stall allowance: a job left to stall each time ended failed (StalledError).
    for (let round = 1; round <= 3; round++) {
      const w = start({ ...fast, SHUTDOWN_GRACE_MS: '200' });
      await w.line((l) => l.msg === 'worker ready');
      await waitFor(() => watch.of(id).filter((e) => e.event === 'active').length >= round);
      w.kill('SIGTERM');
      // Non-zero: it had to give the job up, and a process manager should know.
      expect(await w.exited).toBe(1);
      expect(w.lines.some((l) => l.msg?.toString().startsWith('grace period over'))).toBe(true);
      expect(w.lines.find((l) => l.msg === 'worker stopped')).toMatchObject({ abandoned: 1 });
      expect(w.lines.some((l) => l.jobId === id && l.msg === 'job handed back to its queue by a shutdown; another worker will run it')).toBe(true);
      // Waiting in its queue at once, with no stall counted and nothing final recorded.
      expect((await store.read(id))?.state).toBe('queued');
      expect(await ctx.redis.hget(jobKey, 'stc')).toBeNull();
    }

    const last = start(fast);
    const done = await watch.terminal(id, 20000);
    expect(done.event).toBe('completed');
    await last.line((l) => l.msg === 'job completed' && l.jobId === id);
  });
});
