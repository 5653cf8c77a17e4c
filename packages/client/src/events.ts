import { AsyncJobsError, errorFromResponse, parseJson } from './errors';
import type { Transport } from './http';
import { DEFAULT_MAX_RETRIES, isTransient, retryDelayMs } from './retry';
import { sleep } from './sleep';
import { parseEventStream } from './sse';
import type { EventsOptions, JobEvent } from './types';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const KNOWN = new Set([...TERMINAL, 'state', 'progress']);

/**
 * Follows `GET /jobs/:id/events` to the job's end. A connection that drops (or that the
 * server closes, as it does when it shuts down) is opened again with `Last-Event-ID`, so
 * that the server sends only what came after the last event seen. Ends after a terminal
 * event, or when a resume is answered 204 (the stream had already ended).
 */
export async function* followEvents(transport: Transport, id: string, options: EventsOptions = {}): AsyncGenerator<JobEvent> {
  const path = `/jobs/${encodeURIComponent(id)}/events`;
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  let lastId = options.lastEventId;
  let failures = 0;
  let retryMs: number | undefined;
  const stop = new AbortController();
  const outer = options.signal;
  if (outer?.aborted) throw outer.reason;
  const onAbort = () => stop.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  const dropped = (err: unknown) => {
    if (stop.signal.aborted) throw stop.signal.reason;
    if (err instanceof AsyncJobsError && err.code === 'network_error') return err;
    // A body that breaks off mid-stream rejects with a TypeError (undici: "terminated").
    if (err instanceof TypeError) return new AsyncJobsError({ status: 0, code: 'network_error', message: err.message }, { cause: err });
    throw err;
  };

  try {
    for (;;) {
      let problem: AsyncJobsError | undefined;
      let delivered = false;
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId) headers['last-event-id'] = lastId;
      let res: Response | undefined;
      try {
        res = await transport.open(path, headers, stop.signal);
      } catch (err) {
        problem = dropped(err);
      }
      if (res?.status === 204) return;
      if (res && (!res.ok || !res.body)) {
        problem = errorFromResponse(res.status, await res.text(), res.headers.get('retry-after'));
        // Only an overloaded or restarting server may answer otherwise later; a 404 will not.
        if (!isTransient(problem)) throw problem;
      } else if (res?.body) {
        try {
          for await (const item of parseEventStream(res.body)) {
            if (item.kind === 'retry') {
              retryMs = item.ms;
              continue;
            }
            const { event } = item;
            if (event.id !== undefined) lastId = event.id;
            delivered = true;
            if (!KNOWN.has(event.event)) continue;
            yield { id: event.id, event: event.event, data: parseJson(event.data) } as JobEvent;
            if (TERMINAL.has(event.event)) return;
          }
        } catch (err) {
          problem = dropped(err);
        }
      }
      // The stream ended before the job did: a dropped connection, or a server going away.
      // Connections in a row that bring nothing count against maxRetries, and wait longer each time.
      failures = delivered ? 0 : failures + 1;
      if (failures > maxRetries) {
        throw problem ?? new AsyncJobsError({ status: 0, code: 'stream_ended', message: `the event stream of job ${id} kept ending before the job did` });
      }
      await sleep(retryDelayMs(failures, problem, retryMs), stop.signal);
    }
  } finally {
    outer?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
