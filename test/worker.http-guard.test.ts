import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addressAllowed, isPublicAddress, type LookupFn } from '../apps/worker/src/http/address-guard';
import { createHostAllowlist } from '@async-jobs/shared';
import { handlers as builtIn } from '../apps/worker/src/handlers/index';
import { createHttpRequestHandler } from '../apps/worker/src/handlers/http-request';
import type { JobHandler } from '../apps/worker/src/handlers/handler';
import { createTestContext, enqueue, watchEvents, type EventWatch } from './helpers';
import { startWorker } from './worker-harness';

/*
 * http.request beyond the host allowlist: the addresses a name resolves to, the
 * schemes, the time and the size of an answer. Names resolve through a fake DNS
 * (every address in it is loopback), so nothing leaves this machine.
 */

const ctx = createTestContext();
let watch: EventWatch;
let server: http.Server;
let port: number;
const hits: string[] = [];
type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const routes = new Map<string, Route>();

const fakeDns: Record<string, string[]> = {
  'svc.test': ['127.0.0.2'],
  'multi.test': ['127.0.0.2', '127.0.0.1'],
  localhost: ['127.0.0.1'],
};
const resolve: LookupFn = (hostname, _options, callback) => {
  const found = fakeDns[hostname.toLowerCase()];
  if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  callback(
    null,
    found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
  );
};
const handlers = new Map<string, JobHandler>([...builtIn, ['http.request', createHttpRequestHandler({ resolve }) as JobHandler]]);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(`${req.socket.localAddress} ${req.url}`);
    const route = routes.get(req.url ?? '');
    if (route) route(req, res);
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  watch = await watchEvents(ctx);
});

afterAll(async () => {
  await watch?.close();
  server?.closeAllConnections();
  await new Promise((r) => server.close(r));
  await ctx.cleanup();
});

beforeEach(() => {
  hits.length = 0;
  routes.clear();
});

/** Runs one http.request job on a worker configured with `env`; returns its record. */
async function run(env: Record<string, string>, input: unknown, opts: Parameters<typeof enqueue>[3] = {}) {
  const worker = await startWorker(ctx, { WORKER_TYPES: 'http.request', ...env }, handlers);
  try {
    const id = await enqueue(ctx, 'http.request', input, { backoff: { type: 'fixed', delay: 10 }, ...opts });
    await watch.terminal(id);
    return (await worker.record(id))!;
  } finally {
    await worker.close();
  }
}

describe('which addresses count as public', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2002:a00:1::1',
    '::127.0.0.1',
    '::ffff:0:7f00:1',
    'fec0::1',
    'not-an-ip',
  ])('%s is not', (a) => expect(isPublicAddress(a)).toBe(false));
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('%s is', (a) => expect(isPublicAddress(a)).toBe(true));

  it('lets a listed name use a non-public address only when that address is listed too (or the name is localhost)', () => {
    const list = createHostAllowlist(['svc.test', '127.0.0.1:8080', 'localhost']);
    expect(addressAllowed(list, 'http:', 'svc.test', 80, '93.184.216.34')).toBe(true);
    expect(addressAllowed(list, 'http:', 'svc.test', 80, '10.0.0.1')).toBe(false);
    expect(addressAllowed(list, 'http:', 'svc.test', 8080, '127.0.0.1')).toBe(true);
    expect(addressAllowed(list, 'http:', 'svc.test', 9090, '127.0.0.1')).toBe(false);
    expect(addressAllowed(list, 'http:', 'localhost', 1234, '127.0.0.1')).toBe(true);
    expect(addressAllowed(list, 'http:', 'localhost', 1234, '::1')).toBe(true);
    expect(addressAllowed(list, 'http:', 'localhost', 1234, '10.0.0.1')).toBe(false);
  });
});

describe('http.request checks the address it connects to', () => {
  it('refuses a listed name that resolves to a non-public address that is not listed, without connecting', async () => {
    const record = await run({ HTTP_ALLOWED_HOSTS: `svc.test:${port}` }, { url: `http://svc.test:${port}/x` }, { attempts: 3 });
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('HostNotAllowedError');
    expect(record.error?.message).toBe('svc.test resolves to 127.0.0.2: not a public address, and not in HTTP_ALLOWED_HOSTS');
    expect(record.attempts.made).toBe(1);
    expect(hits).toEqual([]);
  });

  it('connects only to the allowed one of the addresses a name resolves to', async () => {
    // Something answers on the forbidden address too, so that a connection to it would be seen.
    const forbidden = http.createServer((req, res) => {
      hits.push(`${req.socket.localAddress} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"forbidden":true}');
    });
    forbidden.listen(port, '127.0.0.2');
    await once(forbidden, 'listening');
    try {
      const record = await run({ HTTP_ALLOWED_HOSTS: `multi.test:${port},127.0.0.1:${port}` }, { url: `http://multi.test:${port}/both` });
      expect(record.state).toBe('completed');
      expect(hits).toEqual(['127.0.0.1 /both']);
    } finally {
      forbidden.closeAllConnections();
      await new Promise((r) => forbidden.close(r));
    }
  });

  it('lets localhost reach loopback when localhost is listed', async () => {
    const record = await run({ HTTP_ALLOWED_HOSTS: `localhost:${port}` }, { url: `http://localhost:${port}/local` });
    expect(record.state).toBe('completed');
    expect(record.result).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('checks the address of every redirect too', async () => {
    routes.set('/away', (_req, res) => res.writeHead(302, { location: `http://svc.test:${port}/inside` }).end());
    const record = await run({ HTTP_ALLOWED_HOSTS: `127.0.0.1:${port},svc.test` }, { url: `http://127.0.0.1:${port}/away` }, { attempts: 2 });
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('HostNotAllowedError');
    expect(hits).toEqual(['127.0.0.1 /away']);
  });

  it('follows no redirect to another scheme', async () => {
    routes.set('/file', (_req, res) => res.writeHead(301, { location: 'file:///etc/passwd' }).end());
    routes.set('/ftp', (_req, res) => res.writeHead(301, { location: `ftp://127.0.0.1:${port}/x` }).end());
    for (const path of ['/file', '/ftp']) {
      const record = await run({ HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}` }, { url: `http://127.0.0.1:${port}${path}` });
      expect(record.state, path).toBe('failed');
      expect(record.error?.name, path).toBe('HostNotAllowedError');
    }
  });

  it('calls no URL with credentials in it, and never puts the password in the job', async () => {
    routes.set('/to-creds', (_req, res) => res.writeHead(302, { location: `http://user:Hunter2secret@127.0.0.1:${port}/in` }).end());
    // A job that bypassed the API with credentials in its URL: refused before any attempt is sent.
    const direct = await run({ HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}` }, { url: `http://user:Hunter2secret@127.0.0.1:${port}/in` }, { attempts: 2 });
    expect(direct.state).toBe('failed');
    expect(direct.error).toEqual({ name: 'InvalidInputError', message: expect.stringContaining('a URL with credentials (user:password@) is refused') });
    // A redirect to one is not followed (fetch would fail quoting the URL, password and all).
    const redirected = await run({ HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}` }, { url: `http://127.0.0.1:${port}/to-creds` }, { attempts: 2 });
    expect(redirected.state).toBe('failed');
    expect(redirected.error?.name).toBe('HostNotAllowedError');
    for (const record of [direct, redirected]) expect(JSON.stringify(record)).not.toContain('Hunter2secret');
    expect(hits).toEqual(['127.0.0.1 /to-creds']);
  });

  it('refuses other schemes outright, even when the job bypassed the API', async () => {
    for (const url of ['file:///etc/passwd', `ftp://127.0.0.1:${port}/`, 'gopher://127.0.0.1:6379/_INFO']) {
      const record = await run({ HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}` }, { url }, { attempts: 2 });
      expect(record.state, url).toBe('failed');
      expect(record.error?.name, url).toBe('InvalidInputError');
      expect(record.attempts.made, url).toBe(1);
    }
    expect(hits).toEqual([]);
  });
});

describe('http.request caps what an answer may cost', () => {
  it('gives up on an answer that is not complete within HTTP_TIMEOUT_MS, and retries', async () => {
    // Headers at once, then a trickle that never ends.
    routes.set('/drip', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(t));
    });
    const started = Date.now();
    const record = await run({ HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}`, HTTP_TIMEOUT_MS: '300' }, { url: `http://127.0.0.1:${port}/drip` }, { attempts: 2 });
    expect(record.state).toBe('failed');
    expect(record.error).toEqual({ name: 'HttpTimeoutError', message: `127.0.0.1:${port} gave no complete answer within HTTP_TIMEOUT_MS (300 ms)` });
    expect(record.attempts.made).toBe(2);
    expect(hits.filter((h) => h.endsWith('/drip'))).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('counts the size after decompression, so a small gzip bomb is still refused', async () => {
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024));
    routes.set('/bomb', (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': bomb.length }).end(bomb),
    );
    const record = await run(
      { HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}`, HTTP_MAX_RESPONSE_BYTES: '100000' },
      { url: `http://127.0.0.1:${port}/bomb` },
      { attempts: 2 },
    );
    expect(bomb.length).toBeLessThan(100000);
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('ResponseTooLargeError');
    expect(record.attempts.made).toBe(1);
  });
});
