export const jobStates = ['queued', 'delayed', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof jobStates)[number];

const terminal: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (s: JobState) => terminal.has(s);

/**
 * Order of writes to a record: attempt number first, then the phase within it.
 * A write whose version is lower than the record's is stale and dropped, so a
 * late "queued" can never overwrite "active" or "completed".
 */
export function recordVersion(attempt: number, state: JobState): number {
  const phase = isTerminal(state) ? 9 : state === 'active' ? 2 : 1;
  return attempt * 10 + phase;
}
