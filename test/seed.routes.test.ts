import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApi, type RunningApi as TestApi } from './api-harness';
import { createTestContext, onCluster, testRedis } from './helpers';

const ctx = createTestContext();
const TOKEN = 'seed-routes-token';
let api: TestApi;
let guarded: TestApi;
let noRedis: TestApi;

beforeAll(async () => {
  api = await startApi(ctx);
  guarded = await startApi(ctx, { API_TOKENS: TOKEN });
  // Nothing listens on port 1: the connection never becomes ready.
  noRedis = await startApi(ctx, { REDIS_URL: 'redis://127.0.0.1:1' });
});

afterAll(async () => {
  await Promise.all([api?.close(), guarded?.close(), noRedis?.close()]);
  await ctx.cleanup();
});

const list = () => ctx.redis.lrange(ctx.keys.prodconsList, 0, -1);
const send = (base: TestApi, path: string, init: RequestInit = {}) => fetch(`${base.url}${path}`, { redirect: 'manual', ...init });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe('GET and POST /prodcons', () => {
  it('pushes one digit 0-9 onto the list and sends the browser back to / with 303', async () => {
    await ctx.redis.del(ctx.keys.prodconsList);
    const res = await send(api, '/prodcons');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const items = await list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(/^[0-9]$/);
  });

  it('accepts a plain HTML form POST (no JSON body) and pushes onto the head of the list', async () => {
    await ctx.redis.del(ctx.keys.prodconsList);
    await ctx.redis.rpush(ctx.keys.prodconsList, 'older');
    const res = await send(api, '/prodcons', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'ignored=1',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const items = await list();
    expect(items).toHaveLength(2);
    expect(items[0]).toMatch(/^[0-9]$/);
    expect(items[1]).toBe('older');
  });

  it('does not always push the same digit', async () => {
    await ctx.redis.del(ctx.keys.prodconsList);
    for (let i = 0; i < 30; i++) expect((await send(api, '/prodcons', { method: 'POST' })).status).toBe(303);
    const items = await list();
    expect(items).toHaveLength(30);
    expect(items.every((x) => /^[0-9]$/.test(x))).toBe(true);
    expect(new Set(items).size).toBeGreaterThan(1);
  });
});

describe('GET and POST /pubsub', () => {
  it('publishes one digit 0-9 that a subscriber receives, and redirects to / with 303', async () => {
    const sub = testRedis();
    try {
      await sub.subscribe(ctx.keys.pubsubChannel);
      const got = once(sub, 'message');
      const res = await send(api, '/pubsub');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/');
      const [channel, message] = await got;
      expect(channel).toBe(ctx.keys.pubsubChannel);
      expect(message).toMatch(/^[0-9]$/);

      const again = once(sub, 'message');
      const post = await send(api, '/pubsub', { method: 'POST' });
      expect(post.status).toBe(303);
      expect((await again)[1]).toMatch(/^[0-9]$/);
    } finally {
      sub.disconnect();
    }
  });
});

describe('HEAD /prodcons and /pubsub', () => {
  it('answers with the headers of a click and pushes and publishes nothing', async () => {
    await ctx.redis.del(ctx.keys.prodconsList);
    const sub = testRedis();
    const heard: string[] = [];
    try {
      await sub.subscribe(ctx.keys.pubsubChannel);
      sub.on('message', (_channel, message) => heard.push(message));
      for (const path of ['/prodcons', '/pubsub']) {
        const res = await send(api, path, { method: 'HEAD' });
        expect(res.status, path).toBe(303);
        expect(res.headers.get('location'), path).toBe('/');
      }
      // A GET after them is heard, and it is the only message: the HEAD published nothing before it.
      const got = once(sub, 'message');
      expect((await send(api, '/pubsub')).status).toBe(303);
      await got;
      expect(heard).toHaveLength(1);
      expect(await list()).toEqual([]);
    } finally {
      sub.disconnect();
    }
  });
});

describe('asked for JSON, as the index page asks', () => {
  const asJson = { method: 'POST', headers: { accept: 'application/json' } };

  it("answers POST /prodcons with 200 and what it pushed, where, and the list's length", async () => {
    await ctx.redis.del(ctx.keys.prodconsList);
    const res = await send(api, '/prodcons', asJson);
    expect(res.status).toBe(200);
    expect(res.headers.get('vary')).toMatch(/Accept/);
    const body = (await res.json()) as { pushed: number };
    expect(body).toEqual({ pushed: expect.any(Number), list: ctx.keys.prodconsList, length: 1 });
    expect(await list()).toEqual([String(body.pushed)]);
  });

  it('answers POST /pubsub with 200 and what it published, on which channel, to how many', async () => {
    const sub = testRedis();
    try {
      await sub.subscribe(ctx.keys.pubsubChannel);
      // On a Redis Cluster a message reaches the other nodes' subscribers over the cluster bus, so
      // the one the test before published may arrive after this subscriber joined: look for ours.
      const seen: string[] = [];
      sub.on('message', (_channel: string, message: string) => seen.push(message));
      const res = await send(api, '/pubsub', asJson);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { published: number; receivers: number };
      expect(body).toEqual({ published: expect.any(Number), channel: ctx.keys.pubsubChannel, receivers: expect.any(Number) });
      // This test's subscriber, and any seed listener of a worker running on the same namespace. On a
      // Redis Cluster PUBLISH counts only the subscribers of the node it reached (the message still
      // reaches every node's, as the next line shows), so there the count may be 0.
      if (!onCluster) expect(body.receivers).toBeGreaterThanOrEqual(1);
      await vi.waitFor(() => expect(seen).toContain(String(body.published)), { timeout: 5_000 });
    } finally {
      sub.disconnect();
    }
  });

  it("still redirects a browser's link and curl's */* with 303", async () => {
    for (const accept of ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', '*/*']) {
      const res = await send(api, '/prodcons', { headers: { accept } });
      expect(res.status, accept).toBe(303);
      expect(res.headers.get('location')).toBe('/');
    }
  });
});

describe('with API_TOKENS set', () => {
  it('refuses /prodcons and /pubsub without a token (401) and pushes nothing', async () => {
    await ctx.redis.del(ctx.keys.prodconsList);
    for (const path of ['/prodcons', '/pubsub']) {
      const res = await send(guarded, path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await errorOf(res)).code).toBe('unauthorized');
    }
    expect(await list()).toEqual([]);
  });

  it('accepts them with the bearer token', async () => {
    const res = await send(guarded, '/prodcons', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(303);
    expect(await list()).toHaveLength(1);
  });

  it('still serves the index page and its assets without a token', async () => {
    expect((await send(guarded, '/')).status).toBe(200);
    expect((await send(guarded, '/assets/app.js')).status).toBe(200);
  });
});

describe('when Redis cannot be reached', () => {
  it('answers 503 unavailable with Retry-After for both routes', async () => {
    for (const path of ['/prodcons', '/pubsub']) {
      const res = await send(noRedis, path, { method: 'POST' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      const error = await errorOf(res);
      expect(error.code).toBe('unavailable');
      expect(JSON.stringify(error)).not.toMatch(/\.ts:\d+/);
    }
  });
});

describe('GET /', () => {
  it('serves the index page with both links, the Bull Board link and the API docs link', async () => {
    const res = await send(api, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<title>Redis Message Queue</title>');
    expect(html).toMatch(/href="\/prodcons"[\s\S]*生产消费者模式/);
    expect(html).toMatch(/href="\/pubsub"[\s\S]*发布订阅者模式/);
    expect(html).toContain('href="/admin/queues"');
    expect(html).toContain('href="/docs"');
  });

  it("sends security headers on the page but leaves Bull Board without that CSP's script rules", async () => {
    const page = await send(api, '/');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const board = await send(api, '/admin/queues');
    expect(board.status).toBe(200);
    expect(board.headers.get('content-security-policy')).toBe("frame-ancestors 'self'");
  });

  it('answers an unknown asset with the JSON 404', async () => {
    const res = await send(api, '/assets/missing.js');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('not_found');
  });
});
