import type { RedisClient } from '@async-jobs/shared';

/** Each pipeline sent on `redis` from now on: when, and which streams it asked XINFO or XRANGE about. */
export function recordReads(redis: RedisClient) {
  const reads: { at: number; asked: string[] }[] = [];
  const pipeline = redis.pipeline.bind(redis);
  redis.pipeline = ((...args: Parameters<typeof pipeline>) => {
    const pipe = pipeline(...args);
    const read = { at: performance.now(), asked: [] as string[] };
    reads.push(read);
    const { xinfo, xrange } = pipe;
    pipe.xinfo = ((...a: unknown[]) => {
      read.asked.push(String(a[1]));
      return (xinfo as (...x: unknown[]) => unknown).apply(pipe, a);
    }) as typeof pipe.xinfo;
    pipe.xrange = ((...a: unknown[]) => {
      read.asked.push(String(a[0]));
      return (xrange as (...x: unknown[]) => unknown).apply(pipe, a);
    }) as typeof pipe.xrange;
    return pipe;
  }) as typeof redis.pipeline;
  const stop = () => {
    redis.pipeline = pipeline;
  };
  return { reads, stop };
}
