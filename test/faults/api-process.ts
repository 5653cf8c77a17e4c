import type { TestContext } from '../helpers';
import { spawnProcess, type WorkerProcess } from '../worker-harness';
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
  const proc = spawnProcess('apps/api/src/main.ts', ctx.env({ LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '2000', ...env, PORT: String(port) }), 'api');
  return {
    ...proc,
    url: `http://127.0.0.1:${port}`,
    port,
    listening: proc.line((l) => l.msg === 'api listening', 20000),
  };
}
