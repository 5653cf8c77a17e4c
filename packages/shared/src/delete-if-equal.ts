import { defineScript } from './lua/scripts';
import type { RedisClient } from './redis';

type ScriptRedis = RedisClient & { ajDeleteIfEqual(key: string, value: string): Promise<number> };

/** Deletes `key` only while it holds `value` (delete-if-equal.lua); true when it did. */
export async function deleteIfEqual(redis: RedisClient, key: string, value: string): Promise<boolean> {
  const r = redis as ScriptRedis;
  defineScript(r, 'ajDeleteIfEqual', 'delete-if-equal', 1);
  return (await r.ajDeleteIfEqual(key, value)) === 1;
}
