import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../apps/api/src/routes';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
let api: RunningApi;
const TOKEN = 'tok-guard-table';

beforeAll(async () => {
  api = await startApi(ctx, { API_TOKENS: TOKEN });
});
afterAll(async () => {
  await api.close();
  await ctx.cleanup();
});

/** A concrete path for a route pattern of the table. */
const concrete = (pattern: string) => pattern.replace('{*file}', 'app.js').replace(':file', 'init.js').replace(':id', 'no-such-job');
/** The only routes open without a token (docs/http-api.md): probes, and the index page with its assets, which hold no data. */
const PUBLIC = ['GET /', 'GET /assets/{*file}', 'GET /healthz', 'GET /readyz'];

describe('API_TOKENS over the whole route table (routes.ts)', () => {
  const table = () => routeTable(api.context);

  it('leaves open exactly the probes and the index page', () => {
    const open = table()
      .filter((r) => !r.auth)
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(open.sort()).toEqual([...PUBLIC].sort());
  });

  it('guards every job route, /types, /metrics, /openapi.json and /docs', () => {
    const guarded = new Set(
      table()
        .filter((r) => r.auth)
        .map((r) => r.path),
    );
    for (const p of [
      '/jobs',
      '/jobs/batch',
      '/jobs/:id',
      '/jobs/:id/result',
      '/jobs/:id/events',
      '/jobs/:id/retry',
      '/types',
      '/metrics',
      '/openapi.json',
      '/docs',
      '/docs/assets/:file',
    ]) {
      expect(guarded.has(p), p).toBe(true);
    }
  });

  it('answers 401 without a token, and with a wrong one, on every guarded route, and writes nothing', async () => {
    for (const r of table().filter((x) => x.auth)) {
      const body = r.method === 'post' ? { type: 'echo', data: {} } : undefined;
      const junk: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${TOKEN}-wrong` },
        { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      ];
      for (const headers of junk) {
        const reply = await call(api.url, r.method.toUpperCase(), concrete(r.path), body, headers);
        expect(reply.status, `${r.method} ${r.path}`).toBe(401);
        expect(reply.body.error.code).toBe('unauthorized');
        expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    expect(await ctx.requestKeys()).toEqual([]);
  });

  it('lets the right token through on every guarded route', async () => {
    // Reads only: the seed links /prodcons and /pubsub would write to Redis.
    const reads = table().filter((x) => x.auth && x.method === 'get' && !/:(id|name)\b/.test(x.path) && !['/prodcons', '/pubsub'].includes(x.path));
    for (const r of reads) {
      const reply = await call(api.url, 'GET', concrete(r.path), undefined, { authorization: `Bearer ${TOKEN}` });
      expect(reply.status, r.path).toBe(200);
    }
    const missing = await call(api.url, 'GET', '/jobs/no-such-job', undefined, { authorization: `Bearer ${TOKEN}` });
    expect(missing.status).toBe(404);
  });

  it('answers every public route without a token', async () => {
    for (const r of table().filter((x) => !x.auth)) {
      expect((await call(api.url, 'GET', concrete(r.path))).status, r.path).toBe(200);
    }
  });
});
