import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor, type TestContext } from '../helpers';
import type { WorkerProcess } from '../worker-harness';
import { freePort } from './redis-server';

export interface ApiProcess extends WorkerProcess {
  url: string;
  port: number;
  /** Resolves once it logged 'api listening'. */
  listening: Promise<unknown>;
}

/** `apps/api/src/main.ts` as a child process, as `npm run start:api` runs it, on a free port unless PORT is given. */
export async function spawnApi(ctx: TestContext, env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/main.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: ctx.env({ LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '2000', ...env, PORT: String(port) }),
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
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const line = (match: (l: Record<string, any>) => boolean, timeoutMs = 15000) =>
    waitFor(() => lines.find(match), timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; api stdout: ${JSON.stringify(lines.slice(-20))}; stderr: ${stderr}`);
    });
  return {
    child,
    lines,
    line,
    url: `http://127.0.0.1:${port}`,
    port,
    listening: line((l) => l.msg === 'api listening', 20000),
    exited,
    stderr: () => stderr,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
