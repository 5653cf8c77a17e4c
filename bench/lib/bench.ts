import type { BenchArgs } from './args';
import type { Env } from './ours';
import type { BenchRedis } from './redis-server';

/** What every figure gets: the flags, the bench's own Redis and how to start processes against it. */
export interface Bench {
  args: BenchArgs;
  redis: BenchRedis;
  env: Env;
  log(line: string): void;
}

/** One figure as written to latest.json (the shape). */
export interface Figure {
  value: number;
  unit: string;
  baseline: number | null;
  baselineName: string;
  runs: Record<string, unknown>[];
}
