import { describe, expect, it } from 'vitest';
import { routeTable, routesByPath } from '../apps/api/src/routes';
import { call } from './api-harness';
import { useApi } from './system-harness';

const sys = useApi();

/** A concrete path for a route pattern of the table. */
const concrete = (pattern: string) => pattern.replace('{*file}', 'app.js').replace(':file', 'init.js').replace(':id', 'no-such-job');
const CANDIDATES = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

describe('a path we serve, asked with a method it does not take', () => {
  it('answers PUT /jobs with 405 and Allow: GET, HEAD, POST', async () => {
    const r = await call(sys.api.url, 'PUT', '/jobs', { type: 'echo', data: {} });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(r.body.error).toEqual({ code: 'method_not_allowed', message: '/jobs takes GET, HEAD and POST, not PUT' });
  });

  it('answers GET /jobs/batch with 405 and Allow: POST, not "no such job"', async () => {
    const r = await call(sys.api.url, 'GET', '/jobs/batch');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(r.body.error).toEqual({ code: 'method_not_allowed', message: '/jobs/batch takes POST only, not GET' });
  });

  it("answers every other method on every path of the route table with 405 and that path's methods", async () => {
    for (const [path, routes] of routesByPath(routeTable(sys.api.context))) {
      const allow = routes.map((r) => r.method.toUpperCase());
      if (allow.includes('GET')) allow.push('HEAD');
      for (const method of CANDIDATES.filter((m) => !allow.includes(m))) {
        const r = await call(sys.api.url, method, concrete(path));
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.headers.get('allow')!.split(', ').sort(), `${method} ${path}`).toEqual([...allow].sort());
        expect(r.body.error.code).toBe('method_not_allowed');
      }
    }
  });

  it('lists the methods for OPTIONS with 204', async () => {
    const r = await call(sys.api.url, 'OPTIONS', '/jobs/no-such-job');
    expect(r.status).toBe(204);
    expect(r.headers.get('allow')).toBe('DELETE, GET, HEAD');
  });

  it('still answers 404 for a path we do not serve, and for a file that is not there', async () => {
    for (const path of ['/nowhere', '/assets/missing.js', '/docs/assets/package.json']) {
      const r = await call(sys.api.url, 'GET', path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('allow')).toBeNull();
    }
    expect((await call(sys.api.url, 'PUT', '/nowhere')).status).toBe(404);
  });

  it('left nothing in Redis', async () => {
    expect(await sys.ctx.requestKeys()).toEqual([]);
  });
});
