import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createKeyspace, loadConfig, type Config, type Keyspace } from '@async-jobs/shared';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestContext {
  namespace: string;
  keys: Keyspace;
  /** Configuration as the processes would load it, with this file's namespace. */
  config(env?: Record<string, string>): Config;
  /** Env for child processes (worker/API started with tsx). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A plain connection for assertions; closed by cleanup(). */
  redis: Redis;
  /** Every key of this namespace (ours and BullMQ's). */
  allKeys(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** A namespace of its own for one test file, so files can run in parallel against one Redis. */
export function createTestContext(): TestContext {
  const namespace = `t${randomBytes(4).toString('hex')}`;
  const keys = createKeyspace(namespace);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const baseEnv = { REDIS_URL, KEY_NAMESPACE: namespace, LOG_LEVEL: 'silent' };
  const scan = async (pattern: string) => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    return out;
  };
  const allKeys = async () => [...(await scan(`${namespace}:*`)), ...(await scan(`{${namespace}:*`))];
  return {
    namespace,
    keys,
    redis,
    config: (env = {}) => loadConfig({ ...baseEnv, ...env }),
    env: (extra = {}) => ({ ...process.env, ...baseEnv, ...extra }) as Record<string, string>,
    allKeys,
    async cleanup() {
      const found = await allKeys();
      for (let i = 0; i < found.length; i += 500) await redis.del(...found.slice(i, i + 500));
      await redis.quit();
    },
  };
}

/** Resolves when `check` returns a truthy value; polls a local condition, never a fixed sleep. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
