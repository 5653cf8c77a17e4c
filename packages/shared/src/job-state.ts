export const jobStates = ['queued', 'delayed', 'waiting-children', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof jobStates)[number];

const terminal: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (s: JobState) => terminal.has(s);
