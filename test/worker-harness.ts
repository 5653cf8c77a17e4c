import { afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { closeRedis, createLogger, createRedis, createResultsStore, jobTypeNames, type JobRecord, type Logger, type ResultsStore } from '@async-jobs/shared';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { createWorker, type JobWorker } from '../apps/worker/src/worker';
import { waitFor, type TestContext } from './helpers';

export interface RunningWorker {
  worker: JobWorker;
  store: ResultsStore;
  /** The job's record, once it exists. */
  record(id: string): Promise<JobRecord | null>;
  close(): Promise<void>;
}

/** A worker in-process, around connections of its own; `close()` closes all of it. Logs nowhere unless given a logger. */
export async function startWorker(
  ctx: TestContext,
  env: Record<string, string> = {},
  handlers?: ReadonlyMap<string, JobHandler>,
  logger: Logger = createLogger('worker-test', env.LOG_LEVEL ?? 'silent'),
): Promise<RunningWorker> {
  const config = ctx.config(env);
  const connection = createRedis(config, 'blocking');
  const redis = createRedis(config, 'blocking');
  const worker = createWorker({ config, connection, redis, logger, handlers });
  await worker.ready();
  const store = createResultsStore({
    redis,
    keys: ctx.keys,
    resultTtlSeconds: config.RESULT_TTL_SECONDS,
    types: [...new Set([...jobTypeNames, ...(handlers?.keys() ?? [])])],
  });
  return {
    worker,
    store,
    record: (id) => store.read(id),
    async close() {
      await worker.close({ graceMs: 2000 });
      await closeRedis(connection);
      await closeRedis(redis);
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Every JSON line it logged so far. */
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first logged line that matches. */
  line(match: (l: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once it has exited. */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * One of our entry points (`script`, relative to the repo root) as a child process run
 * through tsx, as the npm scripts run it, with its JSON log lines collected.
 */
export function spawnProcess(script: string, env: Record<string, string>, label = script): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: new URL('..', import.meta.url).pathname,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
    } catch {
      lines.push({ raw: l });
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    lines,
    line: (match, timeoutMs = 15000) =>
      waitFor(() => lines.find(match), timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message}; ${label} stdout: ${JSON.stringify(lines.slice(-50))}; stderr: ${stderr}`);
      }),
    exited,
    stderr: () => stderr,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/**
 * `apps/worker/src/main.ts` as a child process, as `npm run start:worker` runs it;
 * `script` (relative to the repo root) runs another entry point, e.g. a fault-injecting worker.
 */
export function spawnWorker(ctx: TestContext, env: Record<string, string> = {}, script = 'apps/worker/src/main.ts'): WorkerProcess {
  return spawnProcess(script, ctx.env({ LOG_LEVEL: 'info', ...env }), 'worker');
}

/**
 * Worker processes that live for one test: `spawn(env)` starts one, and each is
 * SIGKILLed (and waited for) after the test, whatever it left running.
 */
export function useWorkerProcesses(ctx: TestContext): (env?: Record<string, string>) => WorkerProcess {
  const children: WorkerProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGKILL');
      await c.exited;
    }
  });
  return (env = {}) => {
    const w = spawnWorker(ctx, env);
    children.push(w);
    return w;
  };
}
