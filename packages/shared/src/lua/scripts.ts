import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { removeUnprocessedChildren } from 'bullmq/dist/esm/scripts/removeUnprocessedChildren-2.js';

/*
 * Our few Lua scripts live in .lua files beside this one, each with a header naming
 * its KEYS and ARGV. Read once, when first used. The bundles (scripts/bundle.mjs) carry
 * copies next to them, so the same relative path works from source and from dist/.
 *
 * A line `--- @bullmq <script>` is replaced by the text of that BullMQ script (as BullMQ
 * ships it, its includes expanded): a script of ours can then act on BullMQ's jobs with
 * BullMQ's own functions, in the same atomic step, instead of a copy of them.
 */
const cache = new Map<string, string>();

const bullmqScripts: Record<string, string> = { removeUnprocessedChildren: removeUnprocessedChildren.content };

function spliceBullmq(text: string, name: string): string {
  return text.replace(/^--- @bullmq (\w+)$/gm, (_line, script: string) => {
    const content = bullmqScripts[script];
    if (content === undefined) throw new Error(`${name}.lua asks for BullMQ script "${script}", which scripts.ts does not provide`);
    return content;
  });
}

export type LuaScriptName =
  | 'read-job'
  | 'set-if-exists'
  | 'index-added'
  | 'relay-lease'
  | 'publish-many'
  | 'idempotency-claim'
  | 'delete-if-equal'
  | 'cancel-unstarted'
  | 'submit-extras';

export function luaScript(name: LuaScriptName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = spliceBullmq(readFileSync(fileURLToPath(new URL(`./${name}.lua`, import.meta.url)), 'utf8'), name);
    cache.set(name, text);
  }
  return text;
}

/**
 * Makes `command` (a script of ours) callable on `redis` and on the pipelines and
 * transactions made from it; a connection that already knows it is left as it is.
 * `numberOfKeys` omitted: the caller passes it first on each call.
 */
export function defineScript(redis: Pick<Redis, 'defineCommand'>, command: string, name: LuaScriptName, numberOfKeys?: number): void {
  if (typeof (redis as unknown as Record<string, unknown>)[command] === 'function') return;
  redis.defineCommand(command, numberOfKeys === undefined ? { lua: luaScript(name) } : { numberOfKeys, lua: luaScript(name) });
}
