import type { Redis } from 'ioredis';

/**
 * Deletes every key matching the patterns, in one script call per pattern. Only for the
 * bench's own Redis between measurements: finished jobs stay for RESULT_TTL_SECONDS, and
 * run after run of 20,000 of them would otherwise pile up (and weigh on Redis).
 */
export async function unlinkMatching(redis: Redis, ...patterns: string[]): Promise<void> {
  for (const p of patterns) {
    await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k) end return 0", 0, p);
  }
}
