import { once } from 'node:events';
import { connect } from 'node:net';
import type { RedisClient } from '@async-jobs/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, testRedis } from './helpers';

const ctx = createTestContext();
let api: RunningApi;
let sub: RedisClient;
const events: string[] = [];

beforeAll(async () => {
  api = await startApi(ctx, { MAX_BODY_BYTES: '2048' });
  sub = testRedis();
  sub.on('message', (_c, m) => events.push(m));
  await sub.subscribe(ctx.keys.eventsChannel);
});

afterAll(async () => {
  await api.close();
  await sub.quit();
  await ctx.cleanup();
});

const post = (body: unknown, headers?: Record<string, string>) => call(api.url, 'POST', '/jobs', body, headers);

/** A POST of exactly these header lines and no body bytes, on a raw socket (fetch and node:http add framing of their own). */
async function rawPost(path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const { port } = new URL(api.url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const lines = Object.entries({ host: `127.0.0.1:${port}`, connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}`);
  socket.end(`POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${headers['transfer-encoding'] ? '0\r\n\r\n' : ''}`);
  let text = '';
  for await (const chunk of socket) text += chunk;
  const [head, body] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) };
}

describe('rejected submissions', () => {
  it('returns 400 invalid_json when the body is not JSON', async () => {
    const r = await post('{"type": "echo",');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_json');
  });

  it('returns 400 validation_failed with the path of each problem when data is invalid', async () => {
    const r = await post({ type: 'sleep', data: { ms: -5, extra: true } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    const paths = r.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toContain('data.ms');
    expect(paths).toContain('data');
  });

  it('returns 400 validation_failed when options are out of bounds', async () => {
    const r = await post({ type: 'echo', data: {}, options: { attempts: 51, delay: -1 } });
    expect(r.status).toBe(400);
    const paths = r.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['options.attempts', 'options.delay']));
  });

  it('lists the problems of data and of options together, in one 400', async () => {
    const r = await post({ type: 'sleep', data: { ms: -1 }, options: { attempts: 0 } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details).toEqual([
      { path: 'data.ms', message: 'data.ms must be a whole number from 0 to 600000' },
      { path: 'options.attempts', message: 'options.attempts must be a whole number from 1 to 50' },
    ]);
    expect(r.body.error.message).toMatch(/\(and 1 more in details\)$/);
  });

  it('lists the problems of data together with an unknown field of the body', async () => {
    const r = await post({ type: 'sleep', data: { ms: -1 }, priority: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details.map((d: { path: string }) => d.path)).toEqual(['data.ms', '(root)']);
    expect(r.body.error.details[1].message).toMatch(/^the body has no field "priority"/);
  });

  it('names an unknown type among the other problems, without checking data against it', async () => {
    const r = await post({ type: 'mine.bitcoin', data: 'anything', options: { attempts: 0 } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details).toEqual([
      { path: 'type', message: 'unknown job type "mine.bitcoin"', knownTypes: ['echo', 'sleep', 'hash', 'http.request', 'collect'] },
      { path: 'options.attempts', message: 'options.attempts must be a whole number from 1 to 50' },
    ]);
  });

  it('returns 400 validation_failed when the body is a JSON array or lacks a type', async () => {
    expect((await post([1, 2])).body.error.code).toBe('validation_failed');
    expect((await post({ data: {} })).body.error.details[0].path).toBe('type');
  });

  it('answers a JSON body that is a string, null or a number as one that is not an object, as for an array', async () => {
    for (const text of ['"x"', 'null', '42', '[1, 2]']) {
      const r = await post(text);
      expect(r.status, text).toBe(400);
      expect(r.body.error).toEqual({
        code: 'validation_failed',
        message: 'the request does not match the schema: the body must be an object',
        details: [{ path: '(root)', message: 'the body must be an object' }],
      });
      for (const [method, path] of [
        ['POST', '/jobs/batch'],
        ['POST', '/flows'],
        ['PUT', '/schedules/scalar'],
      ]) {
        const other = await call(api.url, method, path, text);
        expect(other.status, `${method} ${path} ${text}`).toBe(400);
        expect(other.body.error.code).toBe('validation_failed');
        expect(other.body.error.details).toEqual([expect.objectContaining({ path: '(root)' })]);
      }
    }
  });

  it('returns 400 unknown_type listing the known types', async () => {
    const r = await post({ type: 'mine.bitcoin', data: {} });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('unknown_type');
    expect(r.body.error.details[0].knownTypes).toEqual(['echo', 'sleep', 'hash', 'http.request', 'collect']);
  });

  it('returns 413 payload_too_large over MAX_BODY_BYTES, stating the limit in bytes', async () => {
    const r = await post({ type: 'echo', data: { blob: 'x'.repeat(4096) } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
    expect(r.body.error.message).toContain('2048 bytes');
  });

  it('says the body is empty, not 415, for a JSON POST without a body', async () => {
    // Content-Length: 0, no length at all, and a chunked body of no chunks: all say the same.
    const framings: Record<string, string>[] = [{ 'content-length': '0' }, {}, { 'transfer-encoding': 'chunked' }];
    for (const framing of framings) {
      for (const path of ['/jobs', '/jobs/batch']) {
        const r = await rawPost(path, { 'content-type': 'application/json', ...framing });
        expect(r.status, `${path} ${JSON.stringify(framing)}`).toBe(400);
        expect(r.body.error.code).toBe('invalid_json');
        expect(r.body.error.message).toMatch(/^the body is empty/);
      }
    }
  });

  it('returns 415 unsupported_media_type for a body that is not JSON', async () => {
    const r = await post('type=echo', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('unsupported_media_type');
  });

  it('reads a body sent as UTF-8 under any of its names, and refuses another charset with 415 naming it', async () => {
    // No `data`: a body that was read is refused for that (400); one that was not, 415.
    for (const charset of ['utf-8', 'UTF8', 'us-ascii', '"utf-8"']) {
      const r = await post({ type: 'echo' }, { 'content-type': `application/json; charset=${charset}` });
      expect(r.status, charset).toBe(400);
      expect(r.body.error.message, charset).toMatch(/data is required/);
    }
    const utf16 = await fetch(`${api.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-16le' },
      body: Buffer.from(JSON.stringify({ type: 'echo', data: {} }), 'utf16le'),
    });
    expect(utf16.status).toBe(415);
    expect(await utf16.json()).toMatchObject({ error: { code: 'unsupported_media_type', message: expect.stringContaining('"utf-16le"') } });
    const latin1 = await post({ type: 'echo' }, { 'content-type': 'application/json; charset=iso-8859-1' });
    expect(latin1.status).toBe(415);
  });

  it('refuses a number too large for a double, rather than keeping it as null', async () => {
    const r = await post('{"type":"echo","data":{"ok":1,"f":[2,-1e400]}}');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details).toEqual([{ path: 'data.f.1', message: 'is a number beyond what a double holds (about ±1.8e308)' }]);
  });

  it('never sends a stack trace', async () => {
    const r = await post('{"type":');
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});

describe('unknown ids and routes', () => {
  it('returns 404 not_found for a job id never seen', async () => {
    for (const path of ['/jobs/0b7e4a3e-0000-4000-8000-000000000000', '/jobs/nope/result']) {
      const r = await call(api.url, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  it('returns 404 for a path traversal (an id only ever names a key) and for an id over 1,024 characters', async () => {
    for (const id of ['../../etc/passwd', 'x'.repeat(1025)]) {
      const r = await call(api.url, 'GET', `/jobs/${encodeURIComponent(id)}`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  it('returns 404 in the error format for an unknown route, with no ETag (no route answers conditional requests)', async () => {
    const r = await call(api.url, 'GET', '/nowhere');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    expect(r.headers.get('etag')).toBeNull();
  });
});

describe('after every rejected request', () => {
  it('left no job, no record and no event in Redis', async () => {
    // A round trip through the subscriber connection flushes any event already sent to it.
    await sub.ping().catch(() => undefined);
    // Nothing but what the processes keep for themselves (BullMQ's queue `meta`, the relay's lease).
    expect(await ctx.requestKeys()).toEqual([]);
    expect(events).toEqual([]);
  });
});
