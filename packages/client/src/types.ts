// Types only: the client takes its shapes from the shared schemas without loading zod or
// anything else of the server's at run time (every import here is erased).
import type { z } from 'zod';
import type { JobInputs, jobResourceSchema, scheduleRequestSchema, scheduleResourceSchema, submitOptionsSchema } from '@async-jobs/shared';

export type { JobInputs };

/** The job resource, as every job answer of the API sends it. */
export type Job = z.infer<typeof jobResourceSchema>;

export type JobState = Job['state'];

/** A job type this client was built with. */
export type KnownJobType = keyof JobInputs;

/** The `data` a job of type `T` takes; `unknown` for a type this client does not know. */
export type JobData<T extends string> = T extends KnownJobType ? JobInputs[T] : unknown;

/** Options of one job (API "Submit options"); every field is optional. */
export type SubmitOptions = z.input<typeof submitOptionsSchema>;

/** One item of `submitBatch`. */
export interface BatchItem<T extends string = string> {
  type: T;
  data: NoInfer<JobData<T>>;
  options?: SubmitOptions;
}

/** What `submit` answers: the job, and whether it is an earlier job replayed for its idempotency key. */
export interface Submitted {
  job: Job;
  /** True when the server answered `Idempotent-Replayed: true`: nothing new was enqueued. */
  replayed: boolean;
}

/** Per-call options of every method. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** For the calls that wait on a job (`result`, `events`) and so outlive a server's restart. */
export interface RetryOptions extends CallOptions {
  /**
   * Failed attempts in a row (no answer, 429, 502-504; for `events` also a stream that
   * ends without an event) retried with backoff before the call rejects; default 8.
   */
  maxRetries?: number;
}

export interface ResultOptions extends RetryOptions {
  /** Give up after this many milliseconds (AsyncJobsError with code `timeout`); by default it waits for as long as it takes. */
  timeout?: number;
}

export interface EventsOptions extends RetryOptions {
  /** Resume after this event id (an `id` from an earlier stream) instead of starting with the current state. */
  lastEventId?: string;
}

export interface ListOptions extends CallOptions {
  type?: string;
  state?: JobState;
  /** Jobs per request (1-100, the server's default 20); the iterator reads every page. */
  pageSize?: number;
}

/** A change the stream reports while the job runs; its fields beyond these follow the server's event. */
export interface JobChange {
  id: string;
  type: string;
  state: JobState;
  progress?: Job['progress'];
  [field: string]: unknown;
}

/**
 * One server-sent event of `GET /jobs/:id/events`. `id` is opaque (pass it back as
 * `lastEventId`); a terminal event carries the job's final resource.
 */
export type JobEvent = { event: 'completed' | 'failed' | 'cancelled'; id?: string; data: Job } | { event: 'state' | 'progress'; id?: string; data: JobChange };

/** One item of `GET /types`. */
export interface JobTypeInfo {
  name: string;
  description: string;
  /** JSON Schema of the type's `data`. */
  input: Record<string, unknown>;
  /** Paused: submits are accepted, nothing of the type starts until it is resumed. */
  paused: boolean;
  /** Limits across all workers, from the server's TYPE_LIMITS; `{}` when none. */
  limits: { rate?: { max: number; durationMs: number }; concurrency?: number };
  /** `waiting` counts every job that reads `queued`. */
  counts: { waiting: number; active: number; delayed: number; completed: number; failed: number };
  [field: string]: unknown;
}

/** A schedule, as `GET /schedules/:name` sends it: `cron` (with `tz`) or `every`, `nextRunAt`, `recentJobs` (run ids, newest first). */
export type Schedule = z.infer<typeof scheduleResourceSchema>;

/** The body of `putSchedule`: a job of type `T` (its `data` checked like `submit`'s), and exactly one of `cron` and `every`. */
export type ScheduleInput<T extends string = string> = Omit<z.input<typeof scheduleRequestSchema>, 'type' | 'data'> & {
  type: T;
  data: NoInfer<JobData<T>>;
};

/** What `putSchedule` answers: the schedule, and whether it was created (201) rather than replaced (200). */
export interface PutSchedule {
  schedule: Schedule;
  created: boolean;
}
