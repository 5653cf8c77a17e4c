import { UnrecoverableError, type Job } from 'bullmq';
import { fetch } from 'undici';
import {
  createHostAllowlist,
  hasCredentials,
  isTerminal,
  signCallback,
  toJobResource,
  type CallbackInfo,
  type CallbackPayload,
  type Config,
  type Logger,
  type ResultsStore,
} from '@async-jobs/shared';
import { guardedAgent, type LookupFn } from '../http/address-guard';
import { HostNotAllowedError } from '../http/errors';
import { describeNetworkError } from '../http/send';

/**
 * Delivers one job's final resource: POST, signed, no redirects followed. A 2xx
 * ends it; anything else throws so BullMQ retries with its backoff, and the job
 * resource shows how it is going (`callback`).
 */
export function createDeliverer(config: Config, store: ResultsStore, logger: Logger, resolve?: LookupFn) {
  const allowlist = createHostAllowlist(config.CALLBACK_ALLOWED_HOSTS);
  // The same address rule as http.request: a listed name cannot be pointed at a private address.
  const dispatcher = guardedAgent(allowlist, resolve, 'CALLBACK_ALLOWED_HOSTS');
  async function deliver(job: Job<CallbackPayload>): Promise<{ status: number } | { skipped: string }> {
    const { id, type, url } = job.data;
    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    const note = (info: Omit<CallbackInfo, 'attempts'>) => store.setCallback(type, id, { ...info, attempts: attempt });
    // Only another producer's job can carry such a URL (the API refuses it); fetch's error would quote its password.
    if (hasCredentials(new URL(url))) {
      await note({ state: 'failed', lastStatus: null });
      throw new UnrecoverableError(`callback URL on ${new URL(url).host} carries credentials (user:password@); it is not called`);
    }
    const record = await store.read(id, type);
    if (!record) throw new UnrecoverableError(`job ${id} has no record any more; nothing to deliver`);
    // Retried by hand since the ending this delivery was queued for: the job's next ending
    // gets a delivery of its own, and until then there is no final resource to send.
    if (!isTerminal(record.state)) {
      logger.info({ jobId: id, state: record.state }, 'callback skipped: the job runs again');
      return { skipped: `the job is ${record.state} again` };
    }
    if (!config.CALLBACK_SECRET || !allowlist.allows(new URL(url))) {
      await note({ state: 'failed', lastStatus: null });
      throw new UnrecoverableError(`callback to ${new URL(url).host} is no longer allowed by this server's configuration`);
    }
    const { callback: _progress, ...rest } = toJobResource(record);
    const body = JSON.stringify(rest);
    let status: number | null = null;
    let unanswered = '';
    try {
      const res = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        dispatcher,
        signal: AbortSignal.timeout(config.CALLBACK_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'async-jobs-callback',
          signature: signCallback(config.CALLBACK_SECRET, body, Math.floor(Date.now() / 1000)),
        },
        body,
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') unanswered = `no answer within CALLBACK_TIMEOUT_MS (${config.CALLBACK_TIMEOUT_MS} ms)`;
      else {
        // fetch says only "fetch failed"; what failed is in its cause.
        const why = describeNetworkError(err, new URL(url));
        // The address guard refused the receiver's address: the next attempt would be refused too.
        if (why instanceof HostNotAllowedError) {
          await note({ state: 'failed', lastStatus: null });
          logger.warn({ jobId: id, attempt, err: why.message }, 'callback not sent');
          throw new UnrecoverableError(`callback not sent: ${why.message}`);
        }
        unanswered = why.message;
      }
      logger.warn({ jobId: id, attempt, err: unanswered }, 'callback delivery failed');
    }
    if (status !== null && status >= 200 && status < 300) {
      await note({ state: 'delivered', lastStatus: status });
      return { status };
    }
    if (status !== null) logger.warn({ jobId: id, attempt, status }, 'callback receiver refused the delivery');
    await note({ state: last ? 'failed' : 'pending', lastStatus: status });
    throw new Error(status === null ? `callback receiver did not answer: ${unanswered}` : `callback receiver answered ${status}`);
  }
  return { deliver, close: () => dispatcher.close() };
}
