import type { RedisClient } from '@async-jobs/shared';
import type { ChainableCommander } from 'ioredis';

/** The scripts BullMQ's Job#addJob picks from, by the job's options (standard, delayed, prioritized, parent). */
const ADD_SCRIPT = /^add(Standard|Delayed|Prioritized|Parent)Job:/;

interface ScriptDefs {
  scriptsSet: Record<string, { lua: string; numberOfKeys: number | null }>;
}

/** The connections the add scripts were copied onto: once each, not on every submit. */
const prepared = new WeakSet<RedisClient>();

/** Transactions BullMQ's Job#addJob can queue on: BullMQ 6 calls its scripts through `runCommand`. */
export type SubmitTransaction = ChainableCommander & { runCommand(name: string, args: unknown[]): SubmitTransaction };

/**
 * A MULTI on our command connection (`redis`) that BullMQ's add scripts can run in. Not one
 * of BullMQ's own connection (`bullmq`): ioredis copies every script defined on a connection
 * onto each MULTI made from it, and BullMQ defines 64, which cost a submit 60-80 µs per
 * request before anything was sent. So the add scripts alone are defined on `redis` too,
 * once per connection, under BullMQ's own names (same Lua, so EVALSHA finds what either loaded).
 * `bullmq` must have had its scripts defined (a queue of it ready) before the first call.
 */
export function submitTransaction(redis: RedisClient, bullmq: RedisClient): SubmitTransaction {
  if (!prepared.has(redis)) {
    let copied = 0;
    for (const [name, script] of Object.entries((bullmq as unknown as ScriptDefs).scriptsSet)) {
      if (!ADD_SCRIPT.test(name)) continue;
      redis.defineCommand(name, { lua: script.lua, numberOfKeys: script.numberOfKeys ?? undefined });
      copied++;
    }
    // None yet (BullMQ not ready): try again on the next submit rather than never.
    if (copied > 0) prepared.add(redis);
  }
  const tx = redis.multi() as SubmitTransaction;
  const commands = tx as unknown as Record<string, (args: unknown[]) => unknown>;
  tx.runCommand = (name, args) => {
    // A BullMQ that adds through a script this file does not copy fails here, loudly, on the first submit.
    if (typeof commands[name] !== 'function') throw new Error(`BullMQ's script ${name} is not defined on the submit connection`);
    commands[name](args);
    return tx;
  };
  return tx;
}
