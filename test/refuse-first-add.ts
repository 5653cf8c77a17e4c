import type { Queue } from 'bullmq';

/**
 * Makes `queue.add` refuse its first call, as Redis does a write when it is out of memory;
 * later calls go through. `calls()` counts them all; `restore()` puts the real add back.
 */
export function refuseFirstAdd(queue: Queue) {
  const add = queue.add;
  let calls = 0;
  queue.add = ((...args: Parameters<typeof add>) => {
    if (calls++ === 0) return Promise.reject(new Error('OOM command not allowed when used memory > maxmemory'));
    return add.apply(queue, args);
  }) as typeof add;
  return {
    calls: () => calls,
    restore: () => {
      queue.add = add;
    },
  };
}
