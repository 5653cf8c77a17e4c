import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { closeRedis, createLogger, createRedis } from '@async-jobs/shared';
import { createApp, type App } from '../apps/api/src/app';
import { answerClientErrors } from '../apps/api/src/client-errors';
import { listen } from '../apps/api/src/http-server';
import { untilReady, waitFor, type TestContext } from './helpers';

export interface RunningApi {
  url: string;
  context: App['context'];
  followers: App['followers'];
  close(): Promise<void>;
}

/** The API in-process on a free port, around its own fail-fast connections. */
export async function startApi(ctx: TestContext, env: Record<string, string> = {}): Promise<RunningApi> {
  const config = ctx.config(env);
  const redis = createRedis(config, 'command');
  const queueRedis = createRedis(config, 'command');
  const subscriber = createRedis(config, 'subscriber');
  const logger = createLogger('api-test', 'silent');
  const { app, context, followers, close } = createApp({ config, redis, queueRedis, subscriber, logger });
  const server = listen(app, 0, '127.0.0.1');
  answerClientErrors(server);
  await once(server, 'listening');
  // Unless the test points it at a Redis of its own (a dead one), wait until it is up.
  if (env.REDIS_URL === undefined) {
    await Promise.all([untilReady(redis), untilReady(queueRedis)]);
    await Promise.all([context.notifier.ready(), context.relay.ready()]);
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    context,
    followers,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await close();
      await closeRedis(subscriber);
      await closeRedis(queueRedis);
      await closeRedis(redis);
    },
  };
}

/**
 * The one API a test file's tests share: started before them, closed after them together
 * with the test context. Its fields are read when a test runs, so the file can hold it in a
 * const at its top.
 */
export function useApi(ctx: TestContext, env: Record<string, string> = {}): RunningApi {
  let started: RunningApi | undefined;
  const running = () => {
    if (!started) throw new Error('the API is not started yet: useApi() is for the top of a test file, read it inside tests');
    return started;
  };
  beforeAll(async () => {
    started = await startApi(ctx, env);
  });
  afterAll(async () => {
    await started?.close();
    await ctx.cleanup();
  });
  return {
    get url() {
      return running().url;
    },
    get context() {
      return running().context;
    },
    get followers() {
      return running().followers;
    },
    close: () => running().close(),
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** A small JSON client: sends JSON when `body` is given, parses JSON replies. */
export async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers }, redirect: 'manual' };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  if (res.headers.get('content-type')?.includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * Waits until BullMQ's retention has removed ended `echo` job `id` (the API runs with a short
 * RESULT_TTL_SECONDS and a worker): BullMQ applies it by age when a later job of the queue
 * finishes, so one more job is run through the API before each look.
 */
export async function untilEchoJobRemoved(api: RunningApi, ctx: TestContext, id: string): Promise<void> {
  await waitFor(
    async () => {
      await call(api.url, 'POST', '/jobs?wait=5', { type: 'echo', data: {} });
      return (await ctx.redis.exists(ctx.keys.job('echo', id))) === 0;
    },
    8000,
    250,
  );
}
