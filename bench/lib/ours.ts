import { bundle, BUNDLES, NODE_FLAGS } from '../../scripts/bundle.mjs';
import { startReady, type Child } from './child';
import { keepAlive, request } from './http';
import { freePort } from './free-port';

export interface Env {
  redisUrl: string;
  logDir: string;
  /** Directory for .cpuprofile files, when profiling. */
  profileDir?: string;
}

/** Our namespace in the bench's Redis; the baselines use other prefixes. */
export const NAMESPACE = 'bench';

/** What `npm start` and the image run: the bundles of scripts/bundle.mjs, not TypeScript through tsx. */
const API = [...NODE_FLAGS.api, BUNDLES.api];
const WORKER = [...NODE_FLAGS.worker, BUNDLES.worker];
let bundled: Promise<void> | undefined;

/** Built once per bench run, so that a stale bundle is never what gets measured. */
const bundleOnce = () => (bundled ??= bundle());

const nodeArgs = (profileDir: string | undefined) => [process.execPath, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
const ours = async (profileDir: string | undefined, script: string[], flags: readonly string[] = []) => {
  await bundleOnce();
  return [...nodeArgs(profileDir), ...flags, ...script];
};
/** The baselines are bench scripts, not deployed code: they still run through tsx. */
const node = (profileDir: string | undefined, script: string) => [...nodeArgs(profileDir), '--import', 'tsx', script];

/**
 * A clean environment: the shell's own variables only, so that an API_TOKENS, LOG_LEVEL or
 * REDIS_CLUSTER_NODES set in the caller's shell cannot change what is measured. Every
 * process runs with the defaults a deployment gets (LOG_LEVEL info, logs to a file).
 */
export function baseEnv(redisUrl: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  const { PATH, HOME, TMPDIR, LANG } = process.env;
  return { PATH, HOME, TMPDIR, LANG, NODE_ENV: 'production', REDIS_URL: redisUrl, ...extra };
}

const ourEnv = (e: Env, extra: Record<string, string>) => baseEnv(e.redisUrl, { KEY_NAMESPACE: NAMESPACE, ...extra });

export interface RunningApi extends Child {
  url: string;
}

/** What a figure may add to how our processes start: node flags before the bundle's own, and variables. */
export interface Extra {
  flags?: readonly string[];
  env?: Record<string, string>;
}

/** `npm run start:api` as deployed: default settings, logs at info (to its log file). */
export async function startOurApi(e: Env, name = 'api', extra: Extra = {}): Promise<RunningApi> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // /readyz: listening and Redis answers; works whatever LOG_LEVEL hides.
  const ready = async () => {
    const agent = keepAlive(1);
    try {
      return (await request(agent, `${url}/readyz`, 'GET', undefined, 2000)).status === 200;
    } finally {
      agent.destroy();
    }
  };
  const child = await startReady(
    { name, argv: await ours(e.profileDir, API, extra.flags), env: ourEnv(e, { ...extra.env, PORT: String(port), HOST: '127.0.0.1' }), logDir: e.logDir },
    (c) => c.waitFor('answer on /readyz', ready),
  );
  return { ...child, url };
}

/** `npm run start:worker` as deployed (every type, the seed listeners on), at `concurrency`. */
export async function startOurWorker(e: Env, concurrency: number, name = `worker-c${concurrency}`, extra: Extra = {}): Promise<Child> {
  // 'worker ready' is logged at info: the bench needs that level to see it.
  return startReady(
    {
      name,
      argv: await ours(e.profileDir, WORKER, extra.flags),
      env: ourEnv(e, { ...extra.env, WORKER_CONCURRENCY: String(concurrency), LOG_LEVEL: 'info' }),
      logDir: e.logDir,
    },
    (c) => c.waitForOutput('"worker ready"'),
  );
}

/** A bench/baselines script in its own process, like ours; it prints `ready` when listening. */
export async function startBaseline(e: Env, name: string, script: string, extra: Record<string, string>): Promise<Child> {
  return startReady({ name, argv: node(undefined, script), env: baseEnv(e.redisUrl, extra), logDir: e.logDir }, (c) => c.waitForOutput('ready'));
}
