import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { jobTypeNames } from './jobs/index';
import { parseLayout, type LayoutSpec } from './queue-layout';
import { parseTypeLimits, TypeLimitsError, type TypeLimits } from './types/type-limits';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/**
 * HTTP_ALLOWED_HOSTS and CALLBACK_ALLOWED_HOSTS: `host` or `host:port` each (host-allowlist.ts
 * compares them exactly). A URL, a path or a wildcard would match no request, so every call
 * would be refused at submit as "not in" a list that seems to hold it.
 */
const HOST_NAME = /^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?$/i;
/** `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (which cannot carry a port). */
const isHostEntry = (v: string) => {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  const named = /^([^:]+)(?::(\d{1,5}))?$/.exec(v);
  const portOk = (p: string | undefined) => p === undefined || (Number(p) >= 1 && Number(p) <= 65535);
  if (bracketed) return isIPv6(bracketed[1]) && portOk(bracketed[2]);
  if (named) return HOST_NAME.test(named[1]) && portOk(named[2]);
  return isIPv6(v);
};
const hostList = list.pipe(
  z.array(
    z.string().refine(isHostEntry, {
      error: (iss) => `each entry must be a host or host:port (no scheme, path or wildcard), e.g. api.example.com or 10.0.0.5:8080; got "${iss.input}"`,
    }),
  ),
);

/** TYPE_LIMITS, parsed; its error names the bad part. */
const typeLimits = z.string().transform((v, ctx): Record<string, TypeLimits> => {
  try {
    return parseTypeLimits(v, jobTypeNames);
  } catch (err) {
    if (!(err instanceof TypeLimitsError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});

/**
 * A whole number in plain decimal digits from `min` to `max`, as the query's numbers are.
 * Coercion read `1e3` as 1000 and `0x10` as 16, and answered a word with "expected number,
 * received NaN"; the message says what the variable takes and what it was given.
 */
const int = (min: number, max: number) => {
  const takes = `must be a whole number from ${min} to ${max}, in decimal digits`;
  const refuse = (issue: { input?: unknown }) => `${takes}; got "${String(issue.input)}"`;
  return (
    z
      .string()
      // An env file's stray space is not worth refusing a start for.
      .trim()
      .regex(/^\d{1,16}$/, { error: refuse })
      .transform(Number)
      .pipe(z.number().min(min, { error: refuse }).max(max, { error: refuse }))
  );
};

/** Parses as ioredis parses a URL: WHATWG, then credentials percent-decoded. */
function isParsableUrl(v: string): boolean {
  try {
    const u = new URL(v);
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
    return true;
  } catch {
    return false;
  }
}

/** Every environment variable the processes read, with its default. */
const schema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, { message: 'must start with redis:// or rediss://', abort: true })
    // ioredis would throw a bare "Invalid URL" from inside the process's start-up; the value is not echoed (it may hold a password).
    .refine(isParsableUrl, 'is not a valid URL; expected redis://[user:password@]host[:port][/db], with special characters in the password percent-encoded')
    // ioredis would send SELECT NaN after connecting, and the process would fail there with a stack trace.
    .refine(
      (v) => !isParsableUrl(v) || /^\/?(\d+)?$/.test(new URL(v).pathname),
      'names a database that is not a number; expected /0, /1 … (or nothing, for 0) after the port',
    )
    .default('redis://127.0.0.1:6379'),
  /**
   * Redis Cluster seed nodes, `host:port,host:port,...` (a few are enough; the rest are
   * discovered). An entry may be a URL instead (`rediss://user:pass@host:port`) to give
   * credentials and TLS, which then apply to every node. When set, it wins over REDIS_URL,
   * which is then not used at all. Empty (the default) means one Redis at REDIS_URL.
   */
  REDIS_CLUSTER_NODES: list
    .pipe(z.array(z.string().regex(/^(rediss?:\/\/([^@/]*@)?)?[^:/@\s]+:\d{1,5}\/?$/, 'each entry must be host:port or redis[s]://[user:pass@]host:port')))
    .default([]),
  /**
   * Queue groups on a Redis Cluster (docs/scaling-out.md): `name=type,type;name=type`. Each
   * group's queues get a hash tag of their own, so groups can sit on different masters; a
   * type named nowhere stays in the default group. Empty (the default): one group, today's layout.
   */
  QUEUE_GROUPS: z.string().default(''),
  /** Types split into N queues (shards) spread over the cluster by job id: `type=N,type=N`, e.g. `echo=3`. */
  QUEUE_SHARDS: z.string().default(''),
  /** Empty in production; tests set it so that parallel files never share a key or channel. */
  KEY_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
    .default(''),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  API_TOKENS: list.default([]),
  ADMIN_USERNAME: z.string().min(1).default('admin'),
  ADMIN_PASSWORD: z.string().default(''),
  ALLOW_INSECURE: bool.default(false),
  /**
   * Origins whose pages may call the API from a browser (CORS), e.g. `https://app.example.org`;
   * `*` allows any origin. Empty (the default): no cross-origin access.
   */
  CORS_ORIGINS: list
    .pipe(z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'each entry must be * or an origin such as https://app.example.org (no path)')))
    .default([]),
  /** Requests per minute per token (per client IP without one); 0 (the default) means no limit. Counted per API process. */
  RATE_LIMIT_PER_MINUTE: int(0, 1000000).default(0),
  WORKER_CONCURRENCY: int(1, 1000).default(10),
  /** Job types this worker serves; empty means all registered types. */
  WORKER_TYPES: list.default([]),
  /** Where a worker serves its own GET /metrics (on HOST, guarded by API_TOKENS like the API's); unset: no endpoint. 0 picks a free port. */
  WORKER_METRICS_PORT: int(0, 65535).optional(),
  /**
   * Per-type limits that hold across all workers together, e.g.
   * `http.request:rate=10/1s,concurrency=4;hash:concurrency=2` (docs/http-api.md "Type limits").
   * Each worker writes them into BullMQ for the types it serves when it starts, and clears
   * there what is no longer given; empty (the default) means no limits.
   */
  TYPE_LIMITS: typeLimits.default(Object.freeze({})),
  RESULT_TTL_SECONDS: int(1, 365 * 86400).default(86400),
  /** How long "this job existed" outlives its record, so an old id answers 410, not 404. */
  TOMBSTONE_TTL_SECONDS: int(1, 365 * 86400).default(7 * 86400),
  /** How long an idempotency key maps to its first job: a repeat within it is a replay, not a new job. */
  IDEMPOTENCY_TTL_SECONDS: int(1, 365 * 86400).default(86400),
  MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024).default(1048576),
  MAX_RESULT_BYTES: int(1, 100 * 1024 * 1024).default(1048576),
  HTTP_ALLOWED_HOSTS: hostList.default([]),
  HTTP_MAX_RESPONSE_BYTES: int(1, 100 * 1024 * 1024).default(1048576),
  /** Longest one http.request call may take, from connecting to the last body byte; a job's `timeout` may cut it shorter. */
  HTTP_TIMEOUT_MS: int(100, 600000).default(30000),
  SHUTDOWN_GRACE_MS: int(0, 600000).default(10000),
  /** How often workers look for jobs whose worker died; BullMQ's default is 30 s. */
  STALLED_INTERVAL_MS: int(500, 600000).default(5000),
  /** Lock lifetime of an active job; a dead worker's job is recovered after at most this plus the stalled interval. */
  LOCK_DURATION_MS: int(1000, 600000).default(10000),
  /** Signs completion callbacks; a job with a callbackUrl is refused while it is empty. */
  CALLBACK_SECRET: z.string().default(''),
  CALLBACK_ALLOWED_HOSTS: hostList.default([]),
  CALLBACK_MAX_ATTEMPTS: int(1, 50).default(8),
  /** First retry delay of a failed delivery; it doubles each time. */
  CALLBACK_BACKOFF_MS: int(0, 3600000).default(1000),
  CALLBACK_TIMEOUT_MS: int(100, 120000).default(10000),
  /**
   * Deliveries one worker process sends at once. Apart from WORKER_CONCURRENCY and larger: a
   * delivery only waits on its receiver, and at the jobs' concurrency a few slow receivers
   * held everyone's callbacks for up to CALLBACK_TIMEOUT_MS.
   */
  CALLBACK_CONCURRENCY: int(1, 1000).default(50),
  LIST_LISTENER: bool.default(true),
  PUBSUB_LISTENER: bool.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = Readonly<z.infer<typeof schema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and freezes the configuration; empty strings count as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const layout = parseLayout(parsed.data.QUEUE_GROUPS, parsed.data.QUEUE_SHARDS, jobTypeNames);
  if ('errors' in layout) throw new ConfigError(`invalid configuration: ${layout.errors.join('; ')}`);
  return Object.freeze(parsed.data);
}

/** The queue layout QUEUE_GROUPS and QUEUE_SHARDS describe (validated by loadConfig). */
export function layoutSpecOf(config: Pick<Config, 'QUEUE_GROUPS' | 'QUEUE_SHARDS'>): LayoutSpec {
  const layout = parseLayout(config.QUEUE_GROUPS, config.QUEUE_SHARDS, jobTypeNames);
  if ('errors' in layout) throw new ConfigError(`invalid configuration: ${layout.errors.join('; ')}`);
  return layout.spec;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** Why the API must not start with this configuration, or null when it may. */
export function insecureReason(config: Config): string | null {
  if (config.ALLOW_INSECURE || isLoopbackHost(config.HOST)) return null;
  const missing = [];
  if (config.API_TOKENS.length === 0) missing.push('API_TOKENS');
  if (config.ADMIN_PASSWORD === '') missing.push('ADMIN_PASSWORD');
  if (missing.length === 0) return null;
  return `HOST=${config.HOST} is not a loopback address and ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} empty; set ${missing.length > 1 ? 'them' : 'it'} or ALLOW_INSECURE=true`;
}

/**
 * Why a worker must not start with this configuration, or null. Its only listener is the
 * metrics endpoint (WORKER_METRICS_PORT), guarded by API_TOKENS as the API's is: on a
 * public HOST without tokens it would be open to anyone, which the API refuses too.
 */
export function workerInsecureReason(config: Config): string | null {
  if (config.WORKER_METRICS_PORT === undefined || config.ALLOW_INSECURE || isLoopbackHost(config.HOST)) return null;
  if (config.API_TOKENS.length > 0) return null;
  return `HOST=${config.HOST} is not a loopback address and API_TOKENS is empty, so WORKER_METRICS_PORT would serve /metrics to anyone; set API_TOKENS, leave WORKER_METRICS_PORT unset, or set ALLOW_INSECURE=true`;
}
