import { AsyncJobsError, errorFromResponse, parseJson } from './errors';

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:3000` (a path prefix is kept: `https://example.org/jobs-api`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` when the API has API_TOKENS set. */
  token?: string;
  /** A fetch to use instead of the global one (a test double, a proxy agent). */
  fetch?: typeof fetch;
}

export interface Sent {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface Transport {
  /** Sends a JSON request; resolves with a 2xx answer's parsed body, rejects with AsyncJobsError otherwise. */
  json(method: string, path: string, init?: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Sent>;
  /** The raw response of a GET, for streams; rejects only when the server cannot be reached. */
  open(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response>;
}

export function createTransport(options: ClientOptions): Transport {
  const base = options.baseUrl.replace(/\/+$/, '');
  // Called as a plain function: a browser's fetch throws when called as a method of another object.
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init));
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(base + path, init);
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason;
      // Node's fetch says only "fetch failed"; its cause names the reason (ECONNREFUSED, a DNS error).
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      const why = String(cause?.code ?? cause?.message ?? (err as Error).message);
      throw new AsyncJobsError({ status: 0, code: 'network_error', message: `cannot reach ${base}: ${why}` }, { cause: err });
    }
  }

  return {
    async json(method, path, init = {}) {
      const headers: Record<string, string> = { accept: 'application/json', ...auth, ...init.headers };
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const res = await send(path, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
      const text = await res.text();
      if (!res.ok) throw errorFromResponse(res.status, text, res.headers.get('retry-after'));
      const body = text ? parseJson(text) : undefined;
      if (text && body === undefined) {
        throw new AsyncJobsError({
          status: res.status,
          code: 'invalid_response',
          message: `${method} ${path} answered ${res.status} with a body that is not JSON`,
        });
      }
      return { status: res.status, headers: res.headers, body };
    },
    open(path, headers, signal) {
      return send(path, { method: 'GET', headers: { ...auth, ...headers }, signal });
    },
  };
}
