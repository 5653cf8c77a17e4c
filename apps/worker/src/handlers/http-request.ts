import { createHostAllowlist, type HostAllowlist, type jobDefinitions } from '@async-jobs/shared';
import type { z } from 'zod';
import type { Agent } from 'undici';
import { guardedAgent, type LookupFn } from '../http/address-guard';
import { HttpStatusError, HttpTimeoutError, InvalidRequestError } from '../http/errors';
import { decodeBody, readBodyCapped } from '../http/read-body';
import { sendFollowingRedirects } from '../http/send';
import type { JobHandler } from './handler';

type HttpRequestInput = z.output<typeof jobDefinitions.httpRequest.input>;
export type HttpRequestResult = z.output<typeof jobDefinitions.httpRequest.result>;

/** A string body is sent as is; anything else as JSON, with a JSON content type unless one was given. */
function encodeBody(data: HttpRequestInput): { body?: string; headers: Record<string, string> } {
  const headers = { ...data.headers };
  if (data.body === undefined) return { headers };
  if (data.method === 'GET' || data.method === 'HEAD') throw new InvalidRequestError(`a ${data.method} request cannot have a body`);
  if (typeof data.body === 'string') return { body: data.body, headers };
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  if (!hasType) headers['content-type'] = 'application/json';
  return { body: JSON.stringify(data.body), headers };
}

/**
 * The http.request handler. `resolve` replaces the system DNS lookup (tests give it a
 * fake one); every connection's addresses go through the guard of address-guard.ts.
 */
export function createHttpRequestHandler(opts: { resolve?: LookupFn } = {}): JobHandler<HttpRequestInput, HttpRequestResult> {
  // One connection pool per allowlist (in practice, per process), not one per job.
  const agents = new Map<string, { allowlist: HostAllowlist; agent: Agent }>();
  const forConfig = (entries: readonly string[]) => {
    const key = entries.join(',');
    let found = agents.get(key);
    if (!found) {
      const allowlist = createHostAllowlist(entries);
      found = { allowlist, agent: guardedAgent(allowlist, opts.resolve) };
      agents.set(key, found);
    }
    return found;
  };

  return {
    name: 'http.request',
    async run(data, ctx) {
      const { body, headers } = encodeBody(data);
      const { allowlist, agent } = forConfig(ctx.config.HTTP_ALLOWED_HOSTS);
      // The whole call, redirects and body included, is capped, whether or not the job has a timeout.
      const cap = AbortSignal.timeout(ctx.config.HTTP_TIMEOUT_MS);
      const signal = AbortSignal.any([ctx.signal, cap]);
      try {
        const res = await sendFollowingRedirects({ url: new URL(data.url), method: data.method, headers, body }, allowlist, signal, agent);
        if (res.status >= 500) {
          await res.body?.cancel().catch(() => {});
          throw new HttpStatusError(res.status, `${new URL(res.url).host} answered ${res.status} ${res.statusText}`.trim());
        }
        const raw = await readBodyCapped(res, ctx.config.HTTP_MAX_RESPONSE_BYTES);
        return {
          status: res.status,
          headers: Object.fromEntries(res.headers),
          body: decodeBody(raw, res.headers.get('content-type')),
        };
      } catch (err) {
        // The job's own signal (its timeout, a cancel) says more; otherwise the cap fired.
        if (!ctx.signal.aborted && cap.aborted) {
          throw new HttpTimeoutError(`${new URL(data.url).host} gave no complete answer within HTTP_TIMEOUT_MS (${ctx.config.HTTP_TIMEOUT_MS} ms)`);
        }
        throw err;
      }
    },
  };
}

export const httpRequest = createHttpRequestHandler();
