import { percentile, round } from './stats';

export interface Summary {
  p50: number;
  p95: number;
  p99: number;
}

export const summary = (xs: number[]): Summary => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50), 3), p95: round(percentile(s, 95), 3), p99: round(percentile(s, 99), 3) };
};

/** `n` calls of `once` one after another; each one's latency in ms (it returns when it counts as done). */
export async function sequential(n: number, once: () => Promise<number | undefined>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const doneAt = await once();
    out.push((doneAt ?? performance.now()) - t0);
  }
  return out;
}
