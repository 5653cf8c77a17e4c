import { afterAll, beforeAll } from 'vitest';
import { startApi, type RunningApi } from './api-harness';
import { createTestContext, type LayoutEnv, type TestContext } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

export interface System {
  ctx: TestContext;
  api: RunningApi;
  worker: RunningWorker;
}

/** The API alone, in-process, for the whole test file (no worker: jobs stay queued). */
export function useApi(env: Record<string, string> = {}, layout?: LayoutEnv): { ctx: TestContext; api: RunningApi } {
  const sys = { ctx: createTestContext(layout) } as { ctx: TestContext; api: RunningApi };
  beforeAll(async () => {
    sys.api = await startApi(sys.ctx, env);
  });
  afterAll(async () => {
    await sys.api?.close();
    await sys.ctx.cleanup();
  });
  return sys;
}

/**
 * An API and a worker in-process for the whole test file, on the file's own
 * namespace, started before its tests and closed (with the keys) after them.
 */
export function useSystem(env: Record<string, string> = {}, layout?: LayoutEnv): System {
  const sys = useApi(env, layout) as System;
  beforeAll(async () => {
    sys.worker = await startWorker(sys.ctx, env);
  });
  // Registered after useApi's: vitest runs after-hooks in reverse, so the worker closes first.
  afterAll(async () => {
    await sys.worker?.close();
  });
  return sys;
}
