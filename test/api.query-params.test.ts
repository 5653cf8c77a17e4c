import { describe, expect, it } from 'vitest';
import { call, useApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
const api = useApi(ctx);

/** POST `path` with a valid echo body: 400 with exactly `details`, and not a key written. */
async function expectSubmitRefusedUnwritten(path: string, details: unknown[]): Promise<void> {
  const before = await ctx.requestKeys();
  const r = await call(api.url, 'POST', path, { type: 'echo', data: { n: 1 } });
  expect(r.status).toBe(400);
  expect(r.body.error.details).toEqual(details);
  expect(await ctx.requestKeys()).toEqual(before);
}

describe('query parameters a route does not declare', () => {
  it('are refused on GET /jobs/{id}, which has none: ?wait there would have answered at once instead of holding', async () => {
    const sent = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 60000 } });
    expect(sent.status).toBe(202);
    const r = await call(api.url, 'GET', `/jobs/${sent.body.id}?wait=10`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details).toEqual([
      { path: 'wait', message: 'GET /jobs/{id} has no query parameter "wait" (it takes none; POST /jobs and GET /jobs/{id}/result take it)' },
    ]);
    // The long-poll the caller meant still answers (here at once, with wait=0).
    expect((await call(api.url, 'GET', `/jobs/${sent.body.id}/result?wait=0`)).status).toBe(202);
  });

  it('name every unknown parameter and what the route takes, on GET /jobs', async () => {
    const r = await call(api.url, 'GET', '/jobs?limit=5&sort=asc&page=2');
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([
      { path: 'sort', message: 'GET /jobs has no query parameter "sort" (it takes type, state, limit, cursor)' },
      { path: 'page', message: 'GET /jobs has no query parameter "page" (it takes type, state, limit, cursor)' },
    ]);
    expect((await call(api.url, 'GET', '/jobs?limit=5')).status).toBe(200);
  });

  it('refuse a parameter given twice, naming it, rather than reading it as a bad value', async () => {
    await expectSubmitRefusedUnwritten('/jobs?wait=1&wait=2', [{ path: 'wait', message: 'wait is given 2 times; give it once' }]);
    const listed = await call(api.url, 'GET', '/jobs?state=failed&state=completed&limit=5');
    expect(listed.status).toBe(400);
    expect(listed.body.error.details).toEqual([{ path: 'state', message: 'state is given 2 times; give it once' }]);
  });

  it('refuse a misspelt ?wait on POST /jobs before anything is written', async () => {
    await expectSubmitRefusedUnwritten('/jobs?wiat=5', [{ path: 'wiat', message: 'POST /jobs has no query parameter "wiat" (it takes wait)' }]);
  });

  it('are ignored where browsers, probes and scrapers add their own: the page, /healthz, /metrics', async () => {
    for (const path of ['/?_=1', '/healthz?probe=lb', '/metrics?target=x']) expect((await call(api.url, 'GET', path)).status, path).toBe(200);
  });
});
