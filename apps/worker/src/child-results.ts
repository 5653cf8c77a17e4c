import { asyncJobsOf, CANCELLED_ERROR, errorName, jobRefOfKey, type ChildResult } from '@async-jobs/shared';
import type { Job } from 'bullmq';

const refKey = (type: string, id: string) => `${type}\n${id}`;

/** The stored stack traces (BullMQ's `stacktrace` field) of the jobs with these Redis keys, null where there is none. */
export type StackReader = (jobKeys: string[]) => Promise<(string | null)[]>;

/**
 * A flow parent's children as its handler gets them (`ctx.childResults`), in the order
 * the flow gave them (`opts.asyncJobs.children`; BullMQ keeps children in a set). Results
 * and ignored failures are BullMQ's (getChildrenValues, getIgnoredChildrenFailures); a
 * child in neither was removed before it ran (cancelled). Jobs that are no flow parent of
 * ours get [] without a round trip. BullMQ keeps only an ignored failure's message: its
 * error's name is read from the child's own stack (`readStacks`), as the child's resource
 * names it; `Error` where that cannot be read.
 */
export async function childResultsOf(job: Job, readStacks?: StackReader): Promise<ChildResult[]> {
  const order = asyncJobsOf(job.opts).children ?? [];
  if (order.length === 0) return [];
  const [values, ignored] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
  const byRef = new Map<string, ChildResult>();
  for (const [key, result] of Object.entries(values ?? {})) {
    const ref = jobRefOfKey(key);
    if (ref) byRef.set(refKey(ref.type, ref.id), { ...ref, state: 'completed', result });
  }
  const failures = Object.entries(ignored ?? {});
  const stacks = readStacks && failures.length > 0 ? await readStacks(failures.map(([key]) => key)).catch(() => []) : [];
  for (const [i, [key, reason]] of failures.entries()) {
    const ref = jobRefOfKey(key);
    if (!ref) continue;
    const name = errorName(stacks[i]);
    // A child cancelled while it ran ends in BullMQ's failed set; its own resource reads cancelled, and so does its result here.
    byRef.set(refKey(ref.type, ref.id), { ...ref, state: name === CANCELLED_ERROR ? 'cancelled' : 'failed', error: { name, message: String(reason) } });
  }
  return order.map(
    ({ id, type }) =>
      byRef.get(refKey(type, id)) ?? { id, type, state: 'cancelled', error: { name: CANCELLED_ERROR, message: 'the child was cancelled before it ran' } },
  );
}
