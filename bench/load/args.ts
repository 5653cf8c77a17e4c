import { parseArgs } from 'node:util';
import { isLoopbackHost, loadConfig, redactUrl, type RedisTarget } from '@async-jobs/shared';

export const USAGE = `usage: npm run load -- [options]     (our "siege -c10 -r 5")
  --url URL            API to load, loopback only (default http://127.0.0.1:3000)
  --token TOKEN        bearer token, when the API sets API_TOKENS
  -c, --concurrency N  concurrent clients per route (default 10)
  -r, --reps N         requests per client (default 5)
  -d, --duration S     run each route for S seconds instead of --reps
  --redis-url URL      Redis to check the list drained in (default REDIS_CLUSTER_NODES or REDIS_URL, as the API takes them)
  --namespace NS       key namespace of that API (default KEY_NAMESPACE, or none)
  --verify-timeout S   how long jobs and the list get to finish afterwards (default 30)
  -h, --help`;

/** A command line the run cannot use; the CLI prints it with USAGE and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface LoadArgs {
  url: URL;
  token?: string;
  concurrency: number;
  reps: number;
  /** Seconds per route; when set, reps is ignored. */
  duration?: number;
  /** The Redis to check: --redis-url, else the cluster or the Redis the environment names, as the API reads it. */
  redis: RedisTarget;
  namespace: string;
  verifyTimeoutS: number;
  help: boolean;
}

function positive(name: string, text: string | undefined, fallback: number, max: number, integer = true): number {
  if (text === undefined) return fallback;
  const n = /^\d*\.?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(n > 0 && n <= max) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} > 0 and <= ${max}, got '${text}'`);
  }
  return n;
}

/** --redis-url as given, refused as usage (exit 2) when it is no redis:// or rediss:// URL, as --url is. */
function redisUrlArg(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let ok = false;
  try {
    ok = /^rediss?:$/.test(new URL(text).protocol);
  } catch {}
  // Not echoed whole when it may hold a password (user:password@).
  if (!ok) throw new UsageError(`--redis-url must be a redis:// or rediss:// URL, got '${text.includes('@') ? redactUrl(text) : text}'`);
  return text;
}

/** argv without node and the script; env gives the defaults of --redis-url and --namespace. */
export function parseLoadArgs(argv: string[], env: Record<string, string | undefined> = process.env): LoadArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        concurrency: { type: 'string', short: 'c' },
        reps: { type: 'string', short: 'r' },
        duration: { type: 'string', short: 'd' },
        'redis-url': { type: 'string' },
        namespace: { type: 'string' },
        'verify-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const str = (k: string) => values[k] as string | undefined;
  let url: URL;
  try {
    url = new URL(str('url') ?? 'http://127.0.0.1:3000');
  } catch {
    throw new UsageError(`--url is not a URL: '${str('url')}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--url must be http:// or https://');
  // A load generator pointed at someone else's server is an attack; this one stays on this machine.
  if (!isLoopbackHost(url.hostname)) throw new UsageError(`--url must be a loopback address (127.0.0.1, localhost, [::1]), got '${url.hostname}'`);

  // The same defaults as the API's own configuration, so a bare run checks the list it writes to.
  const config = loadConfig({ REDIS_URL: env.REDIS_URL, REDIS_CLUSTER_NODES: env.REDIS_CLUSTER_NODES, KEY_NAMESPACE: env.KEY_NAMESPACE });
  return {
    url,
    token: str('token') || undefined,
    concurrency: positive('concurrency', str('concurrency'), 10, 1000),
    reps: positive('reps', str('reps'), 5, 1000000),
    duration: str('duration') === undefined ? undefined : positive('duration', str('duration'), 0, 3600, false),
    redis: redisUrlArg(str('redis-url')) ?? { REDIS_URL: config.REDIS_URL, REDIS_CLUSTER_NODES: config.REDIS_CLUSTER_NODES },
    namespace: str('namespace') ?? config.KEY_NAMESPACE,
    verifyTimeoutS: positive('verify-timeout', str('verify-timeout'), 30, 3600, false),
    help: values.help === true,
  };
}
