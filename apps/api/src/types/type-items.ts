import { HttpError, jobTypes, type JobQueue } from '@async-jobs/shared';
import { z } from 'zod';
import type { AppContext } from '../deps';
import { readTypeStatus, type TypeStatus } from './type-status';

/** A job type as GET /types shows it: its definition, and its queue's state in BullMQ. */
export interface TypeItem extends TypeStatus {
  name: string;
  description: string;
  input: unknown;
}

/** The definitions part, computed once: the schemas do not change while the process runs. */
const definitions = new Map(
  [...jobTypes.values()].map((t) => [
    t.name,
    { name: t.name, description: t.description, input: z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) },
  ]),
);

/** The queue of a registered type, or 404 (`details` lists the known types). */
export function queueOf(ctx: AppContext, type: string): JobQueue {
  const queue = definitions.has(type) ? ctx.queues.get(type) : undefined;
  if (!queue) {
    const message = `no job type named "${type}"`;
    // The same detail as an unknown type in a submit's body (400 unknown_type); here the type is the resource, so 404.
    throw new HttpError(404, 'not_found', message, [{ path: 'type', message, knownTypes: [...definitions.keys()] }]);
  }
  return queue;
}

/** Items of the given types (all by default), their status read in one pipeline. */
export async function typeItems(ctx: AppContext, types: readonly string[] = [...definitions.keys()]): Promise<TypeItem[]> {
  const queues = new Map(types.map((t) => [t, queueOf(ctx, t)]));
  const status = await readTypeStatus(ctx.redis, queues);
  return types.map((t) => ({ ...definitions.get(t)!, ...status.get(t)! }));
}
