import type { jobDefinitions } from '@async-jobs/shared';
import type { z } from 'zod';
import { createHostAllowlist } from '../http/allowlist';
import { HttpStatusError, InvalidRequestError } from '../http/errors';
import { decodeBody, readBodyCapped } from '../http/read-body';
import { sendFollowingRedirects } from '../http/send';
import type { JobHandler } from './handler';

type HttpRequestInput = z.output<typeof jobDefinitions.httpRequest.input>;

export interface HttpRequestResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

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

export const httpRequest: JobHandler<HttpRequestInput, HttpRequestResult> = {
  name: 'http.request',
  async run(data, ctx) {
    const { body, headers } = encodeBody(data);
    const allowlist = createHostAllowlist(ctx.config.HTTP_ALLOWED_HOSTS);
    const res = await sendFollowingRedirects({ url: new URL(data.url), method: data.method, headers, body }, allowlist, ctx.signal);
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
  },
};
