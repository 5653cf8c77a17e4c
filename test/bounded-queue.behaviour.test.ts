import { getEventListeners } from 'node:events';
import { BoundedQueue, QueueClosedError } from '@async-jobs/seed';
import { describe, expect, it } from 'vitest';

/** Follows a promise's state without awaiting it, so a test can show that it is still pending. */
function track<T>(promise: Promise<T>) {
  const t = { state: 'pending' as 'pending' | 'fulfilled' | 'rejected', value: undefined as T | undefined, reason: undefined as unknown };
  promise.then(
    (v) => Object.assign(t, { state: 'fulfilled', value: v }),
    (e: unknown) => Object.assign(t, { state: 'rejected', reason: e }),
  );
  return t;
}

/** Lets every queued microtask run (one event-loop turn); no clock involved. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function drain<T>(q: BoundedQueue<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await q.take());
  return out;
}

describe('BoundedQueue', () => {
  it('rejects a capacity that is not an integer >= 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new BoundedQueue(bad)).toThrow(RangeError);
    }
    expect(new BoundedQueue(1).capacity).toBe(1);
  });

  it('gives items back in the order they were put', async () => {
    const q = new BoundedQueue<number>(5);
    for (const n of [3, 1, 4, 1, 5]) await q.put(n);
    expect(q.size).toBe(5);
    expect(await drain(q, 5)).toEqual([3, 1, 4, 1, 5]);
    expect(q.size).toBe(0);
  });

  it('keeps a put on a full queue pending until a take makes room', async () => {
    const q = new BoundedQueue<string>(2);
    await q.put('a');
    await q.put('b');
    const c = track(q.put('c'));
    await settle();
    expect(c.state).toBe('pending');
    expect(q.size).toBe(2);

    expect(await q.take()).toBe('a');
    await settle();
    expect(c.state).toBe('fulfilled');
    expect(q.size).toBe(2);
    expect(await drain(q, 2)).toEqual(['b', 'c']);
  });

  it('serves waiting puts in arrival order, one per freed slot', async () => {
    const q = new BoundedQueue<string>(1);
    await q.put('x');
    const y = track(q.put('y'));
    const z = track(q.put('z'));
    expect(await q.take()).toBe('x');
    await settle();
    expect([y.state, z.state]).toEqual(['fulfilled', 'pending']);
    expect(await q.take()).toBe('y');
    await settle();
    expect(z.state).toBe('fulfilled');
    expect(await q.take()).toBe('z');
  });

  it('keeps a take on an empty queue pending until a put, and serves takers in arrival order', async () => {
    const q = new BoundedQueue<number>(3);
    const takers = [track(q.take()), track(q.take()), track(q.take())];
    await settle();
    expect(takers.map((t) => t.state)).toEqual(['pending', 'pending', 'pending']);

    await q.put(1);
    await settle();
    expect(takers.map((t) => t.state)).toEqual(['fulfilled', 'pending', 'pending']);
    await q.put(2);
    await q.put(3);
    await settle();
    expect(takers.map((t) => t.value)).toEqual([1, 2, 3]);
    expect(q.size).toBe(0);
  });

  it('lets the caller of put continue before the taker it woke', async () => {
    const q = new BoundedQueue<string>(1);
    const log: string[] = [];
    const eater = (async () => log.push(`ate ${await q.take()}`))();
    await settle();
    await q.put('soup');
    log.push('made soup');
    await eater;
    expect(log).toEqual(['made soup', 'ate soup']);
  });

  describe('close()', () => {
    it('makes later puts reject with a QueueClosedError', async () => {
      const q = new BoundedQueue<number>(2);
      q.close();
      expect(q.closed).toBe(true);
      const err = await q.put(1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueClosedError);
      expect(err).toMatchObject({ code: 'queue_closed', message: expect.stringMatching(/closed/) });
      expect(q.size).toBe(0);
    });

    it('lets takes drain what is left, then rejects them', async () => {
      const q = new BoundedQueue<string>(3);
      await q.put('a');
      await q.put('b');
      q.close();
      q.close(); // idempotent
      expect(await drain(q, 2)).toEqual(['a', 'b']);
      await expect(q.take()).rejects.toBeInstanceOf(QueueClosedError);
    });

    it('rejects waiting puts without inserting their items', async () => {
      const q = new BoundedQueue<string>(1);
      await q.put('kept');
      const waiting = q.put('dropped');
      q.close();
      await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
      expect(await q.take()).toBe('kept');
      await expect(q.take()).rejects.toBeInstanceOf(QueueClosedError);
    });

    it('rejects waiting takes', async () => {
      const q = new BoundedQueue<string>(1);
      const a = q.take();
      const b = q.take();
      q.close();
      await expect(a).rejects.toBeInstanceOf(QueueClosedError);
      await expect(b).rejects.toBeInstanceOf(QueueClosedError);
    });
  });

  describe('AbortSignal', () => {
    it('rejects an aborted waiting put with the reason and never inserts its item', async () => {
      const q = new BoundedQueue<string>(1);
      await q.put('a');
      const ac = new AbortController();
      const reason = new Error('cook went home');
      const b = q.put('b', ac.signal);
      const c = track(q.put('c'));
      ac.abort(reason);
      await expect(b).rejects.toBe(reason);
      expect(q.size).toBe(1);

      // The aborted put gave up its place in line: the next freed slot goes to 'c'.
      expect(await q.take()).toBe('a');
      await settle();
      expect(c.state).toBe('fulfilled');
      expect(await q.take()).toBe('c');
      const next = track(q.take());
      await settle();
      expect(next.state).toBe('pending'); // 'b' never showed up
      await q.put('d');
      await settle();
      expect(next.value).toBe('d');
    });

    it('rejects an aborted waiting take with the reason, and the next item goes to the next taker', async () => {
      const q = new BoundedQueue<string>(1);
      const ac = new AbortController();
      const first = q.take(ac.signal);
      const second = track(q.take());
      ac.abort('eater left');
      await expect(first).rejects.toBe('eater left');
      await q.put('x');
      await settle();
      expect(second.value).toBe('x');
      expect(q.size).toBe(0);
    });

    it('rejects at once on an already aborted signal, leaving the queue untouched', async () => {
      const q = new BoundedQueue<string>(2);
      await q.put('a');
      const signal = AbortSignal.abort('too late');
      await expect(q.put('b', signal)).rejects.toBe('too late');
      await expect(q.take(signal)).rejects.toBe('too late');
      expect(q.size).toBe(1);
      expect(await q.take()).toBe('a');
    });

    it('ignores an abort that comes after the operation was served', async () => {
      const q = new BoundedQueue<string>(1);
      await q.put('a');
      const ac = new AbortController();
      const b = q.put('b', ac.signal);
      expect(await q.take()).toBe('a');
      ac.abort();
      await expect(b).resolves.toBeUndefined();
      expect(await q.take()).toBe('b');
    });

    it('leaves no listeners behind on a long-lived signal', async () => {
      const q = new BoundedQueue<number>(1);
      const { signal } = new AbortController();
      for (let i = 0; i < 50; i++) {
        const taken = q.take(signal); // waits: the queue is empty
        await q.put(i, signal);
        expect(await taken).toBe(i);
      }
      await q.put(0, signal);
      const waitingPut = q.put(1, signal);
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      expect(await q.take(signal)).toBe(0);
      await waitingPut;
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    });
  });

  it('loses and duplicates nothing with 8 producers x 500 items, 5 consumers and capacity 3', async () => {
    const q = new BoundedQueue<string>(3);
    // A fixed pseudo-random schedule of extra event-loop turns, so runs interleave differently
    // from a lockstep ping-pong yet stay reproducible.
    let seed = 42;
    const maybeYield = async () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      if (seed % 7 === 0) await settle();
    };
    const put: string[] = [];
    const taken: string[] = [];
    let maxSize = 0;

    const producers = Array.from({ length: 8 }, async (_, p) => {
      for (let i = 0; i < 500; i++) {
        const item = `p${p}-${String(i).padStart(3, '0')}`;
        await q.put(item);
        put.push(item);
        maxSize = Math.max(maxSize, q.size);
        await maybeYield();
      }
    });
    const consumers = Array.from({ length: 5 }, async () => {
      for (;;) {
        let item: string;
        try {
          item = await q.take();
        } catch (err) {
          if (err instanceof QueueClosedError) return;
          throw err;
        }
        taken.push(item);
        await maybeYield();
      }
    });
    await Promise.all(producers);
    q.close();
    await Promise.all(consumers);

    expect(put).toHaveLength(4000);
    expect([...taken].sort()).toEqual([...put].sort());
    expect(maxSize).toBeLessThanOrEqual(3);
    // FIFO: each producer's items come out in the order that producer put them.
    for (let p = 0; p < 8; p++) {
      const mine = taken.filter((item) => item.startsWith(`p${p}-`));
      expect(mine).toEqual([...mine].sort());
    }
  });
});
