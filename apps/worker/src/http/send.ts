import { fetch, type Dispatcher, type Response } from 'undici';
import { hasCredentials, hostLabel, type HostAllowlist } from '@async-jobs/shared';
import { AddressNotAllowedError } from './address-guard';
import { HostNotAllowedError, NetworkError, TooManyRedirectsError } from './errors';

export const MAX_REDIRECTS = 5;

export interface OutgoingRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Credentials meant for one origin must not follow a redirect to another. */
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** A fetch failure in words (its cause's code and message), or the guard's refusal, which is not worth retrying. */
export function describeNetworkError(err: unknown, url: URL): NetworkError | HostNotAllowedError {
  // The guarded connector refused every address the name resolved to (address-guard.ts): not retried.
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof AddressNotAllowedError) return new HostNotAllowedError(e.message);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const message = cause?.message ?? (err as Error).message;
  const why = cause?.code && !message.includes(cause.code) ? `${cause.code}: ${message}` : message;
  return new NetworkError(`request to ${hostLabel(url)} failed: ${why}`);
}

function describeTarget(u: URL): string {
  return /^https?:$/.test(u.protocol) ? `host ${hostLabel(u)}` : `a ${u.protocol} URL`;
}

/**
 * Sends the request, following at most MAX_REDIRECTS redirects by hand so that
 * every hop is checked against the allowlist before anything is sent to it.
 * `dispatcher` (address-guard.ts) checks the addresses each connection uses.
 * Returns the first non-redirect response; its body is unread.
 */
export async function sendFollowingRedirects(req: OutgoingRequest, allowlist: HostAllowlist, signal: AbortSignal, dispatcher: Dispatcher): Promise<Response> {
  let { url, method, body } = req;
  const headers = { ...req.headers };
  if (!/^https?:$/.test(url.protocol)) throw new HostNotAllowedError(`only http and https URLs may be called, not ${url.protocol}`);
  if (!allowlist.allows(url)) throw new HostNotAllowedError(`host ${hostLabel(url)} is not in HTTP_ALLOWED_HOSTS`);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, redirect: 'manual', signal, dispatcher });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw describeNetworkError(err, url);
    }
    const location = res.headers.get('location');
    if (!REDIRECT.has(res.status) || !location) return res;
    await res.body?.cancel().catch(() => {});
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new NetworkError(`${hostLabel(url)} redirected to a Location that is not a URL; not followed`);
    }
    // Messages name the host only: a Location's path, query or user part may carry a token.
    if (hop >= MAX_REDIRECTS) throw new TooManyRedirectsError(`more than ${MAX_REDIRECTS} redirects; the last one to ${describeTarget(next)}`);
    if (!/^https?:$/.test(next.protocol)) throw new HostNotAllowedError(`redirect to a ${next.protocol} URL; only http and https are followed`);
    if (!allowlist.allows(next)) throw new HostNotAllowedError(`redirect to host ${hostLabel(next)} is not in HTTP_ALLOWED_HOSTS; not followed`);
    // fetch would refuse it with an error quoting the URL, password and all, into the job's error.
    if (hasCredentials(next)) throw new HostNotAllowedError(`redirect to a URL with credentials (user:password@) on ${hostLabel(next)}; not followed`);
    if (next.origin !== url.origin) for (const name of Object.keys(headers)) if (ORIGIN_BOUND_HEADERS.includes(name.toLowerCase())) delete headers[name];
    // As browsers do: 303 always, and 301/302 after a POST, continue as a GET without a body.
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      if (method !== 'HEAD') method = 'GET';
      body = undefined;
      for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-type') delete headers[name];
    }
    url = next;
  }
}
