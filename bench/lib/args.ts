import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run bench -- [options]
  --quick             seconds-long smoke run (CI): tiny sizes, 1 run, checks only that every figure was produced
  --runs N            runs per figure, each with its baseline (default 3; the figure is the median)
  --duration S        seconds per autocannon run (default 5)
  --connections N     autocannon connections for POST /jobs (default 50)
  --drain-jobs N      prefilled jobs per drain run (default 20000)
  --e2e N             sequential submit+wait round trips per e2e run (default 2000)
  --waiters N         concurrent long-polls in the waiter run (default 10000)
  --soak-rounds N     rounds of mixed requests in the soak run (default 900; each about 47 requests and 113 jobs)
  --only LIST         comma-separated figures to run (submit,batchSubmit,drain,e2e,waiters,memory,resumes,soak,peers)
  --profile           run the API and worker under node --cpu-prof (profiles in bench/results/profiles)
  --out FILE          where to write the JSON (default bench/results/latest.json)
  -h, --help`;

export const ALL_PARTS = ['submit', 'batchSubmit', 'drain', 'e2e', 'waiters', 'memory', 'resumes', 'soak', 'peers'] as const;
export type Part = (typeof ALL_PARTS)[number];

export interface BenchArgs {
  quick: boolean;
  runs: number;
  durationS: number;
  connections: number;
  drainJobs: number;
  e2eCount: number;
  waiters: number;
  soakRounds: number;
  parts: Set<Part>;
  profile: boolean;
  out: string;
  help: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function int(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer ${min}–${max}, got '${text}'`);
  return n;
}

/** argv without node and the script. --quick sets small defaults; explicit flags still win. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        runs: { type: 'string' },
        duration: { type: 'string' },
        connections: { type: 'string' },
        'drain-jobs': { type: 'string' },
        e2e: { type: 'string' },
        waiters: { type: 'string' },
        'soak-rounds': { type: 'string' },
        only: { type: 'string' },
        profile: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const s = (k: string) => values[k] as string | undefined;
  const quick = values.quick === true;
  const only = s('only')
    ?.split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of only ?? []) if (!(ALL_PARTS as readonly string[]).includes(p)) throw new UsageError(`--only: unknown figure '${p}'`);
  return {
    quick,
    runs: int('runs', s('runs'), quick ? 1 : 3, 1, 50),
    durationS: int('duration', s('duration'), quick ? 1 : 5, 1, 600),
    connections: int('connections', s('connections'), quick ? 10 : 50, 1, 1000),
    drainJobs: int('drain-jobs', s('drain-jobs'), quick ? 300 : 20000, 10, 1000000),
    e2eCount: int('e2e', s('e2e'), quick ? 30 : 2000, 5, 100000),
    waiters: int('waiters', s('waiters'), quick ? 200 : 10000, 10, 50000),
    soakRounds: int('soak-rounds', s('soak-rounds'), quick ? 9 : 900, 3, 100000),
    parts: new Set((only ?? ALL_PARTS) as Part[]),
    profile: values.profile === true,
    out: s('out') ?? 'bench/results/latest.json',
    help: values.help === true,
  };
}
