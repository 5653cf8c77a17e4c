import { afterAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext, expectedQueueNames } from './helpers';

const ctx = createTestContext();
const running: RunningApi[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
  await ctx.cleanup();
});

const start = async (env: Record<string, string>) => {
  const api = await startApi(ctx, env);
  running.push(api);
  return api;
};
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

describe('Bull Board at /admin/queues', () => {
  it('answers without credentials on loopback when ADMIN_PASSWORD is empty, listing one queue per type (per shard of a sharded type) and the callbacks queue', async () => {
    const api = await start({});
    const page = await call(api.url, 'GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/html/);
    const queues = await call(api.url, 'GET', '/admin/queues/api/queues');
    expect(queues.status).toBe(200);
    const names = queues.body.queues.map((q: { name: string }) => q.name).sort();
    // One queue per type and shard (sleep~1, sleep~2 under npm run test:cluster:groups).
    expect(names).toEqual(expectedQueueNames(ctx));
    if (Object.keys(ctx.layout.shards).length === 0) expect(names).toEqual(['callbacks', 'collect', 'echo', 'hash', 'http.request', 'sleep']);
  });

  it('links its fonts from here, not from another host, and serves those files only', async () => {
    const api = await start({});
    const html = (await call(api.url, 'GET', '/admin/queues')).body as string;
    expect(html).not.toMatch(/<link[^>]*href="https?:/);
    const links = [...html.matchAll(/<link href="(fonts\/[^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(expect.arrayContaining(['fonts/ibm-plex-sans/400.css', 'fonts/ibm-plex-sans/600.css', 'fonts/ibm-plex-mono/500.css']));
    for (const link of links) {
      const css = await fetch(`${api.url}/admin/queues/${link}`);
      expect(css.status, link).toBe(200);
      expect(css.headers.get('content-type')).toMatch(/^text\/css/);
      const file = /url\(\.\/(files\/[^)]+\.woff2)\)/.exec(await css.text())![1];
      const font = await fetch(`${api.url}/admin/queues/${link.replace(/[^/]+$/, '')}${file}`);
      expect(font.status, file).toBe(200);
      await font.arrayBuffer();
    }
    for (const other of [
      'fonts/ibm-plex-sans/package.json',
      'fonts/ibm-plex-sans/..%2fpackage.json',
      'fonts/ibm-plex-sans/files/..%2f..%2fpackage.json',
      'fonts/roboto/400.css',
    ]) {
      expect((await fetch(`${api.url}/admin/queues/${other}`)).status, other).toBe(404);
    }
  });

  it('asks for credentials when ADMIN_PASSWORD is set', async () => {
    const api = await start({ ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 's3cret' });
    const anon = await call(api.url, 'GET', '/admin/queues');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await call(api.url, 'GET', '/admin/queues', undefined, basic('ops', 'wrong'))).status).toBe(401);
    expect((await call(api.url, 'GET', '/admin/queues', undefined, basic('admin', 's3cret'))).status).toBe(401);
    expect((await call(api.url, 'GET', '/admin/queues', undefined, basic('ops', 's3cret'))).status).toBe(200);
    expect((await call(api.url, 'GET', '/admin/queues/api/queues', undefined, basic('ops', 's3cret'))).status).toBe(200);
  });

  it.each<Record<string, string>>([{}, { ALLOW_INSECURE: 'true' }])(
    'stays closed when API_TOKENS is set and ADMIN_PASSWORD is not (%o), saying what to set',
    async (extra) => {
      const api = await start({ API_TOKENS: 'tok-admin-test', ADMIN_PASSWORD: '', ...extra });
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        const anon = await call(api.url, 'GET', path);
        expect(anon.status, path).toBe(401);
        expect(anon.body, path).toEqual({ error: { code: 'unauthorized', message: 'Bull Board needs ADMIN_PASSWORD to be set on this server' } });
        // The API's own token does not open it either.
        expect((await call(api.url, 'GET', path, undefined, { authorization: 'Bearer tok-admin-test' })).status, path).toBe(401);
      }
    },
  );

  it('sends /admin and /admin/ on to Bull Board', async () => {
    const api = await start({});
    for (const path of ['/admin', '/admin/']) {
      const r = await fetch(`${api.url}${path}`, { redirect: 'manual' });
      expect(r.status, path).toBe(302);
      expect(r.headers.get('location'), path).toBe('/admin/queues');
    }
  });
});
