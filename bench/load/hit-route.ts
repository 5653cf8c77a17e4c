import autocannon from 'autocannon';
import type { LoadArgs } from './args';

/** One route to load; `onResponse` sees every answer (used to collect job ids). */
export interface RouteSpec {
  label: string;
  method: 'GET' | 'POST';
  path: string;
  /** Built per request, so every job carries its own sequence number. */
  body?: (seq: number) => unknown;
  onResponse?: (status: number, body: string, seq: number) => void;
}

export interface RouteStats {
  label: string;
  /** Answers received, whatever their status. */
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  /** 2xx and 3xx answers: for these routes, 202 and 303 are success. */
  ok: number;
  /** Answers that are not 2xx/3xx, by status. */
  failed: Record<string, number>;
  /** Every answer, by status. */
  byStatus: Record<string, number>;
  /** Connection errors and timeouts: no answer at all. */
  errors: number;
}

/** `--concurrency` clients, each making `--reps` requests (or running `--duration` seconds). */
export async function hitRoute(args: LoadArgs, spec: RouteSpec): Promise<RouteStats> {
  let seq = 0;
  const headers: Record<string, string> = {};
  if (args.token) headers.authorization = `Bearer ${args.token}`;
  if (spec.body) headers['content-type'] = 'application/json';
  const result = await autocannon({
    url: new URL(spec.path, args.url).toString(),
    connections: args.concurrency,
    // amount spreads evenly: each client makes exactly `reps` requests, as siege -r does.
    ...(args.duration ? { duration: args.duration } : { amount: args.concurrency * args.reps }),
    timeout: 10,
    // The run ends on a sampling tick: a short tick keeps short runs' req/s honest.
    sampleInt: 50,
    requests: [
      {
        method: spec.method,
        headers,
        setupRequest: (req, context) => {
          const n = ++seq;
          (context as { seq?: number }).seq = n;
          return spec.body ? { ...req, body: JSON.stringify(spec.body(n)) } : req;
        },
        onResponse: spec.onResponse ? (status, body, context) => spec.onResponse!(status, body, (context as { seq: number }).seq) : undefined,
      },
    ],
  });
  let ok = 0;
  let answered = 0;
  const failed: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const [code, { count = 0 }] of Object.entries(result.statusCodeStats ?? {})) {
    answered += count;
    byStatus[code] = count;
    if (/^[23]/.test(code)) ok += count;
    else failed[code] = count;
  }
  return {
    label: spec.label,
    requests: answered,
    reqPerSec: result.duration > 0 ? answered / result.duration : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    failed,
    byStatus,
    errors: result.errors,
  };
}
