import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * Our few Lua scripts live in .lua files beside this one, each with a header naming
 * its KEYS and ARGV. Read once, when first used. The bundles (scripts/bundle.mjs) carry
 * copies next to them, so the same relative path works from source and from dist/.
 */
const cache = new Map<string, string>();

export function luaScript(name: 'read-job' | 'set-if-exists' | 'index-added' | 'relay-lease' | 'idempotency-claim' | 'idempotency-release' | 'submit-extras'): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(fileURLToPath(new URL(`./${name}.lua`, import.meta.url)), 'utf8');
    cache.set(name, text);
  }
  return text;
}
