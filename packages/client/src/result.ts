import { AsyncJobsError } from './errors';
import type { Sent, Transport } from './http';
import { DEFAULT_MAX_RETRIES, isTransient, retryDelayMs } from './retry';
import { sleep } from './sleep';
import type { Job, ResultOptions } from './types';

/** The longest hold the API grants one long-poll (`?wait` is 0-30 seconds). */
const MAX_WAIT_S = 30;

/**
 * Long-polls `GET /jobs/:id/result?wait=S` until the job is terminal (the API answers 200
 * then, 202 while it is not) and resolves with the terminal job. Each request asks for
 * at most 30 seconds, or what is left of `timeout`. A transient failure (no answer, 429,
 * 502-504) is retried with backoff, up to `maxRetries` in a row.
 */
export async function awaitResult(transport: Transport, id: string, options: ResultOptions = {}): Promise<Job> {
  const path = `/jobs/${encodeURIComponent(id)}/result`;
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  let failures = 0;
  for (;;) {
    const leftS = (deadline - Date.now()) / 1000;
    if (leftS <= 0) {
      throw new AsyncJobsError({ status: 0, code: 'timeout', message: `job ${id} did not end within ${options.timeout} ms` });
    }
    const wait = Math.min(MAX_WAIT_S, Math.ceil(leftS * 1000) / 1000);
    const asked = Date.now();
    let answer: Sent;
    try {
      answer = await transport.json('GET', `${path}?wait=${wait}`, { signal: options.signal });
    } catch (err) {
      // A server restarting or out of reach for a moment is asked again, as an event stream is.
      if (!isTransient(err) || ++failures > maxRetries) throw err;
      await sleep(Math.min(retryDelayMs(failures, err), deadline - Date.now()), options.signal);
      continue;
    }
    failures = 0;
    const { status, headers, body } = answer;
    if (status === 200) return body as Job;
    // A 202 well before the wait ran out (a server that does not hold, or one shutting
    // down): ask again only after its Retry-After, not at once in a tight loop.
    if (Date.now() - asked < (wait * 1000) / 2) {
      const retryS = Number(headers.get('retry-after') ?? 1);
      await sleep(Math.min(Number.isFinite(retryS) ? retryS * 1000 : 1000, deadline - Date.now()), options.signal);
    }
  }
}
