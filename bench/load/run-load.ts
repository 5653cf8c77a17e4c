import type { LoadArgs } from './args';
import { hitRoute, type RouteSpec, type RouteStats } from './hit-route';
import { formatTable } from './table';
import { checkRedis, followJobs } from './verify';

export interface LoadOutcome {
  routes: RouteStats[];
  /** Accepted jobs the API no longer has (404/410), or that came back with another job's data. */
  lostJobs: string[];
  /** Elements left on the seed list; null when Redis could not be checked. */
  listLeft: number | null;
  /** 0: every request answered 2xx/3xx, every job completed and the list drained; 1 otherwise. */
  exitCode: number;
}

/** Loads the three routes one after another, then checks through the API and Redis that nothing was lost. */
export async function runLoad(args: LoadArgs, print: (line: string) => void): Promise<LoadOutcome> {
  const shape = args.duration ? `${args.concurrency} clients for ${args.duration} s per route` : `${args.concurrency} clients x ${args.reps} requests`;
  print(`load: ${args.url.origin}, ${shape}`);

  const jobs = new Map<string, number>();
  const specs: RouteSpec[] = [
    { label: 'GET /prodcons', method: 'GET', path: '/prodcons' },
    { label: 'GET /pubsub', method: 'GET', path: '/pubsub' },
    {
      label: 'POST /jobs (echo)',
      method: 'POST',
      path: '/jobs',
      body: (seq) => ({ type: 'echo', data: { load: true, seq } }),
      onResponse(status, body, seq) {
        if (status !== 202) return;
        try {
          const id = (JSON.parse(body) as { id?: unknown }).id;
          if (typeof id === 'string') jobs.set(id, seq);
        } catch {
          // Counted as accepted but untraceable below.
        }
      },
    },
  ];
  const routes: RouteStats[] = [];
  for (const spec of specs) routes.push(await hitRoute(args, spec));
  print('');
  print(formatTable(routes));
  print('');

  // The API went away during the run: there is nothing to verify, and "lost: 0" would be a claim.
  if (routes.every((r) => r.requests === 0)) {
    print(`no request was answered by ${args.url.origin}: nothing was measured`);
    return { routes, lostJobs: [], listLeft: null, exitCode: 1 };
  }

  const jobRoute = routes[2];
  const untraced = (jobRoute.byStatus['202'] ?? 0) - jobs.size;
  print(`verifying: ${jobs.size} accepted jobs, the list and the channel (up to ${args.verifyTimeoutS} s)`);
  const [checks, redis] = await Promise.all([followJobs(args, jobs), checkRedis(args)]);

  const unfinished = checks.filter((c) => !c.mismatch && c.state !== 'completed' && c.state !== 'gone');
  const lostJobs = checks.filter((c) => c.mismatch || c.state === 'gone');
  const completed = checks.length - unfinished.length - lostJobs.length;
  print(`jobs: ${jobs.size} accepted, ${completed} completed${untraced > 0 ? `, ${untraced} accepted without a readable id` : ''}`);
  for (const line of capped(
    lostJobs.map((c) => `  lost job ${c.id}: ${c.mismatch ? "completed with another job's data" : 'gone (the API answers 404 or 410 for it)'}`),
  ))
    print(line);
  if (unfinished.length > 0) {
    const byState = countBy(unfinished.map((c) => c.state));
    print(`  not finished within ${args.verifyTimeoutS} s: ${unfinished.length} (${byState}; is a worker running?)`);
    for (const line of capped(unfinished.map((c) => `  unfinished job ${c.id}: still ${c.state}`))) print(line);
  }
  if (redis.error) print(`list ${redis.list}: not checked, Redis at ${redis.error}`);
  else {
    print(`list ${redis.list}: ${redis.left === 0 ? 'drained' : `${redis.left} element(s) left (is a worker with LIST_LISTENER on running?)`}`);
    print(`channel ${redis.channel}: ${redis.subscribers} subscriber(s) now (pub/sub keeps nothing for absent subscribers)`);
  }

  for (const r of routes) {
    for (const [status, n] of Object.entries(r.failed)) print(`${r.label}: ${n} answered ${status}${STATUS_HINTS[status] ? ` (${STATUS_HINTS[status]})` : ''}`);
    if (r.errors > 0) print(`${r.label}: ${r.errors} got no answer (connection errors or timeouts)`);
  }
  const failedRequests = routes.reduce((n, r) => n + r.errors + Object.values(r.failed).reduce((a, b) => a + b, 0), 0);
  const lost = lostJobs.length + Math.max(0, untraced);
  print(`lost: ${lost}`);
  if (unfinished.length > 0 || (redis.left ?? 0) > 0) print(`not done: ${unfinished.length} job(s), ${redis.left ?? 0} list element(s)`);
  if (failedRequests > 0) print(`failed requests: ${failedRequests}`);
  if (redis.error) print('the list was not checked');
  const exitCode = lost > 0 || unfinished.length > 0 || (redis.left ?? 0) > 0 || failedRequests > 0 || redis.left === null ? 1 : 0;
  return { routes, lostJobs: lostJobs.map((c) => c.id), listLeft: redis.left, exitCode };
}

/** What a refused request most likely means, by status. */
const STATUS_HINTS: Record<string, string> = {
  '401': 'a wrong or missing --token?',
  '429': "the API's RATE_LIMIT_PER_MINUTE",
  '503': 'the API cannot reach Redis',
};

const SHOWN = 10;
/** At most SHOWN lines, then one that says how many more there were: a run of thousands of jobs is not thousands of lines. */
function capped(lines: string[]): string[] {
  return lines.length <= SHOWN ? lines : [...lines.slice(0, SHOWN), `  … and ${lines.length - SHOWN} more`];
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}
