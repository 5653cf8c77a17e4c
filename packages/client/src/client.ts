import { followEvents } from './events';
import { createTransport, type ClientOptions } from './http';
import { awaitResult } from './result';
import type {
  BatchItem,
  CallOptions,
  EventsOptions,
  Job,
  JobData,
  JobEvent,
  JobTypeInfo,
  ListOptions,
  PutSchedule,
  ResultOptions,
  Schedule,
  ScheduleInput,
  SubmitOptions,
  Submitted,
} from './types';

export interface AsyncJobsClient {
  /**
   * `POST /jobs`. `data` is checked at compile time against the type's shared schema
   * (a type this client does not know takes any `data`; the server still checks it).
   * With `options.idempotencyKey`, a repeat answers the first job and `replayed: true`.
   */
  submit<T extends string>(type: T, data: NoInfer<JobData<T>>, options?: SubmitOptions, call?: CallOptions): Promise<Submitted>;
  /** `POST /jobs/batch`: all or nothing (one invalid item rejects the batch); the jobs in the order given. */
  submitBatch<const T extends readonly string[]>(jobs: { [K in keyof T]: BatchItem<T[K]> }, call?: CallOptions): Promise<Job[]>;
  /** `GET /jobs/:id`. */
  get(id: string, call?: CallOptions): Promise<Job>;
  /** The job once it is terminal (completed, failed or cancelled), by long-polling; see ResultOptions for a timeout. */
  result(id: string, options?: ResultOptions): Promise<Job>;
  /** The job's events until its terminal event, resuming across dropped connections. Leaving the loop closes the stream. */
  events(id: string, options?: EventsOptions): AsyncGenerator<JobEvent>;
  /** `DELETE /jobs/:id`: the job `cancelled` (a waiting job), or as read just after the cancel was sent (a running one: mostly still `active`; a short handler may have ended by then). */
  cancel(id: string, call?: CallOptions): Promise<Job>;
  /** `POST /jobs/:id/retry` of a failed job: the job queued again. */
  retry(id: string, call?: CallOptions): Promise<Job>;
  /** Every job that matches, newest first, reading page after page (`nextCursor`) as the loop goes on. */
  list(options?: ListOptions): AsyncGenerator<Job>;
  /** `GET /types`: the job types the server runs and the JSON Schema of their `data`. */
  types(call?: CallOptions): Promise<JobTypeInfo[]>;
  /** `PUT /schedules/:name`: creates or replaces the schedule; each run is an ordinary job with `schedule` set to `name`. */
  putSchedule<T extends string>(name: string, schedule: ScheduleInput<T>, call?: CallOptions): Promise<PutSchedule>;
  /** `GET /schedules/:name` (AsyncJobsError `not_found` when there is none). */
  getSchedule(name: string, call?: CallOptions): Promise<Schedule>;
  /** `GET /schedules`: every schedule, by name. */
  listSchedules(call?: CallOptions): Promise<Schedule[]>;
  /** `DELETE /schedules/:name`: no run comes after it (AsyncJobsError `not_found` when there is none). */
  deleteSchedule(name: string, call?: CallOptions): Promise<void>;
}

export type { ClientOptions };

/** A client of the async-jobs HTTP API, on `fetch`. Every failure rejects with AsyncJobsError (an abort with its reason). */
export function createClient(options: ClientOptions): AsyncJobsClient {
  const http = createTransport(options);
  const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;
  const schedulePath = (name: string) => `/schedules/${encodeURIComponent(name)}`;

  return {
    async submit(type, data, jobOptions, call = {}) {
      const body = jobOptions === undefined ? { type, data } : { type, data, options: jobOptions };
      const res = await http.json('POST', '/jobs', { body, signal: call.signal });
      return { job: res.body as Job, replayed: res.headers.get('idempotent-replayed') === 'true' };
    },

    async submitBatch(jobs, call = {}) {
      const res = await http.json('POST', '/jobs/batch', { body: { jobs }, signal: call.signal });
      return (res.body as { jobs: Job[] }).jobs;
    },

    async get(id, call = {}) {
      return (await http.json('GET', jobPath(id), { signal: call.signal })).body as Job;
    },

    result: (id, resultOptions) => awaitResult(http, id, resultOptions),

    events: (id, eventsOptions) => followEvents(http, id, eventsOptions),

    async cancel(id, call = {}) {
      return (await http.json('DELETE', jobPath(id), { signal: call.signal })).body as Job;
    },

    async retry(id, call = {}) {
      return (await http.json('POST', `${jobPath(id)}/retry`, { signal: call.signal })).body as Job;
    },

    async *list(listOptions = {}) {
      const { type, state, pageSize, signal } = listOptions;
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams();
        if (type !== undefined) query.set('type', type);
        if (state !== undefined) query.set('state', state);
        if (pageSize !== undefined) query.set('limit', String(pageSize));
        if (cursor !== null) query.set('cursor', cursor);
        const qs = query.toString() ? `?${query}` : '';
        const page = (await http.json('GET', `/jobs${qs}`, { signal })).body as { jobs: Job[]; nextCursor: string | null };
        yield* page.jobs;
        cursor = page.nextCursor;
      } while (cursor !== null);
    },

    async types(call = {}) {
      return ((await http.json('GET', '/types', { signal: call.signal })).body as { types: JobTypeInfo[] }).types;
    },

    async putSchedule(name, schedule, call = {}) {
      const res = await http.json('PUT', schedulePath(name), { body: schedule, signal: call.signal });
      return { schedule: res.body as Schedule, created: res.status === 201 };
    },

    async getSchedule(name, call = {}) {
      return (await http.json('GET', schedulePath(name), { signal: call.signal })).body as Schedule;
    },

    async listSchedules(call = {}) {
      return ((await http.json('GET', '/schedules', { signal: call.signal })).body as { schedules: Schedule[] }).schedules;
    },

    async deleteSchedule(name, call = {}) {
      await http.json('DELETE', schedulePath(name), { signal: call.signal });
    },
  };
}
