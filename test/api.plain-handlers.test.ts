import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../apps/api/src/route-handler';
import { jobRoutes } from '../apps/api/src/routes/jobs';
import { call, useApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
const api = useApi(ctx);

/** A request as a handler sees it, built by hand: no Express, no socket. */
function request(parts: Partial<HttpRequest>): HttpRequest {
  return { params: {}, query: {}, body: undefined, header: () => undefined, onClose: () => () => undefined, ...parts };
}

describe('route handlers without Express', () => {
  it('answer the job that GET /jobs/:id answers over HTTP, from a request built by hand', async () => {
    const id = (await call(api.url, 'POST', '/jobs', { type: 'echo', data: { plain: true }, options: { delay: 60000 } })).body.id as string;
    const reply = await jobRoutes(api.context).get(request({ params: { id } }));
    expect(reply.status ?? 200).toBe(200);
    expect(reply.body).toEqual((await call(api.url, 'GET', `/jobs/${id}`)).body);
  });

  it('submit with its status and Location in the reply, and throw what the error middleware turns into a 404', async () => {
    const reply = await jobRoutes(api.context).submit(request({ body: { type: 'echo', data: { n: 2 }, options: { delay: 60000 } } }));
    expect(reply.status).toBe(202);
    const id = (reply.body as { id: string }).id;
    expect(reply.headers).toMatchObject({ Location: `/jobs/${id}` });
    expect(await ctx.redis.hget(ctx.keys.job('echo', id), 'data')).toBe('{"n":2}');
    await expect(jobRoutes(api.context).get(request({ params: { id: 'no-such-job' } }))).rejects.toMatchObject({ status: 404 });
  });
});

describe('replies written by serve()', () => {
  it('send JSON with its type and length, and answer HEAD with the same headers and no body', async () => {
    const id = (await call(api.url, 'POST', '/jobs', { type: 'echo', data: { n: 3 }, options: { delay: 60000 } })).body.id as string;
    const get = await fetch(`${api.url}/jobs/${id}`);
    const text = await get.text();
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(get.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(JSON.parse(text)).toMatchObject({ id, state: 'delayed' });

    const head = await fetch(`${api.url}/jobs/${id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(await head.text()).toBe('');
  });
});
