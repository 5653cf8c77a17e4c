import autocannon from 'autocannon';

export interface CannonResult {
  /** 2xx answers per second: errors and other statuses do not count as throughput. */
  okPerSec: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
}

/** autocannon against one POST route with a fixed JSON body. */
export async function cannon(url: string, body: unknown, connections: number, durationS: number): Promise<CannonResult> {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    connections,
    duration: durationS,
    timeout: 10,
  });
  const ok = r['2xx'];
  return { okPerSec: ok / r.duration, ok, non2xx: r.non2xx, errors: r.errors, p50: r.latency.p50, p99: r.latency.p99 };
}
