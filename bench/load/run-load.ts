import type { LoadArgs } from './args';
import { hitRoute, type RouteSpec, type RouteStats } from './hit-route';
import { formatTable } from './table';
import { checkRedis, followJobs } from './verify';

export interface LoadOutcome {
  routes: RouteStats[];
  /** Accepted jobs that did not reach `completed` (or came back with the wrong data). */
  lostJobs: string[];
  /** Elements left on the seed list; null when Redis could not be checked. */
  listLeft: number | null;
  /** 0: every request answered 2xx/3xx and nothing was lost; 1 otherwise. */
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

  const lostJobs = checks.filter((c) => c.state !== 'completed' || c.mismatch);
  const completed = checks.length - lostJobs.length;
  print(`jobs: ${jobs.size} accepted, ${completed} completed${untraced > 0 ? `, ${untraced} accepted without a readable id` : ''}`);
  for (const c of lostJobs) print(`  lost job ${c.id}: ${c.mismatch ? "completed with another job's data" : `still ${c.state}`}`);
  if (redis.error) print(`list ${redis.list}: not checked, Redis at --redis-url: ${redis.error}`);
  else {
    print(`list ${redis.list}: ${redis.left === 0 ? 'drained' : `${redis.left} element(s) left (is a worker with LIST_LISTENER on running?)`}`);
    print(`channel ${redis.channel}: ${redis.subscribers} subscriber(s) now (pub/sub keeps nothing for absent subscribers)`);
  }

  const failedRequests = routes.reduce((n, r) => n + r.errors + Object.values(r.failed).reduce((a, b) => a + b, 0), 0);
  const lost = lostJobs.length + Math.max(0, untraced) + (redis.left ?? 0);
  print(lost === 0 ? 'lost: 0' : `lost: ${lost}${lostJobs.length ? ` (${lostJobs.map((c) => c.id).join(', ')})` : ''}`);
  if (failedRequests > 0) print(`failed requests: ${failedRequests}`);
  const exitCode = lost > 0 || failedRequests > 0 || redis.left === null ? 1 : 0;
  return { routes, lostJobs: lostJobs.map((c) => c.id), listLeft: redis.left, exitCode };
}
