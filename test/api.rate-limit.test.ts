import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
let api: RunningApi;
const [A, B] = ['tok-rate-a', 'tok-rate-b'];

beforeAll(async () => {
  api = await startApi(ctx, { RATE_LIMIT_PER_MINUTE: '5', API_TOKENS: `${A},${B}` });
});
afterAll(async () => {
  await api.close();
  await ctx.cleanup();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('RATE_LIMIT_PER_MINUTE', () => {
  it('answers 429 rate_limited with Retry-After past the limit, in the error format', async () => {
    for (let i = 0; i < 5; i++) expect((await call(api.url, 'GET', '/types', undefined, as(A))).status).toBe(200);
    const over = await call(api.url, 'GET', '/types', undefined, as(A));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Nothing was written by a throttled submit.
    const submit = await call(api.url, 'POST', '/jobs', { type: 'echo', data: {} }, as(A));
    expect(submit.status).toBe(429);
    expect(await ctx.requestKeys()).toEqual([]);
  });

  it('counts each token on its own, and requests without a valid token by address', async () => {
    expect((await call(api.url, 'GET', '/types', undefined, as(B))).status).toBe(200);
    // Junk tokens share the caller's address budget instead of getting one each.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(api.url, 'GET', '/types', undefined, as(`junk-${i}`))).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
  });

  it('never throttles /healthz and /readyz', async () => {
    for (let i = 0; i < 8; i++) expect((await call(api.url, 'GET', '/healthz')).status).toBe(200);
    // Spelt as the router still serves them.
    for (const path of ['/healthz/', '/HEALTHZ', '/ReadyZ/']) for (let i = 0; i < 8; i++) expect((await call(api.url, 'GET', path)).status, path).toBe(200);
    expect((await call(api.url, 'GET', '/readyz')).status).toBe(200);
  });

  it('is off by default', async () => {
    const open = await startApi(ctx);
    try {
      for (let i = 0; i < 30; i++) expect((await call(open.url, 'GET', '/healthz')).status).toBe(200);
      for (let i = 0; i < 30; i++) expect((await call(open.url, 'GET', '/types')).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
