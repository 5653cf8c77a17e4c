import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, enqueue, watchEvents, type EventWatch } from './helpers';
import { startWorker, type RunningWorker } from './worker-harness';

const ctx = createTestContext();
let worker: RunningWorker;
let watch: EventWatch;

/** Two local servers: `allowed` is in HTTP_ALLOWED_HOSTS (as 127.0.0.1:port), `other` is not (localhost:port). */
type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const routes = new Map<string, Route>();
const hits: string[] = [];
let otherHits = 0;
let allowed: http.Server;
let other: http.Server;
let base: string;
let otherBase: string;

beforeAll(async () => {
  allowed = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes.get(req.url ?? '');
    if (route) route(req, res);
    else res.writeHead(404).end('no route');
  });
  other = http.createServer((_req, res) => {
    otherHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"other":true}');
  });
  allowed.listen(0, '127.0.0.1');
  other.listen(0, '127.0.0.1');
  await Promise.all([once(allowed, 'listening'), once(other, 'listening')]);
  const port = (allowed.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  otherBase = `http://localhost:${(other.address() as AddressInfo).port}`;
  watch = await watchEvents(ctx);
  worker = await startWorker(ctx, { WORKER_CONCURRENCY: '4', HTTP_ALLOWED_HOSTS: `127.0.0.1:${port}`, HTTP_MAX_RESPONSE_BYTES: '1000' });
});

afterAll(async () => {
  await worker?.close();
  await watch?.close();
  allowed?.closeAllConnections();
  other?.closeAllConnections();
  await Promise.all([allowed && new Promise((r) => allowed.close(r)), other && new Promise((r) => other.close(r))]);
  await ctx.cleanup();
});

beforeEach(() => {
  routes.clear();
  hits.length = 0;
  otherHits = 0;
});

const json =
  (status: number, body: unknown): Route =>
  (_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function run(input: unknown, opts: Parameters<typeof enqueue>[3] = {}) {
  const id = await enqueue(ctx, 'http.request', input, opts);
  await watch.terminal(id);
  return { id, record: (await worker.record(id))! };
}

describe('http.request', () => {
  it('completes with status, headers and the parsed JSON body', async () => {
    routes.set('/ok', (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => json(200, { method: req.method, got: JSON.parse(body), type: req.headers['content-type'] })(req, res));
    });
    const { record } = await run({ url: `${base}/ok`, method: 'POST', body: { a: 1 } });
    expect(record.state).toBe('completed');
    const result = record.result as { status: number; headers: Record<string, string>; body: unknown };
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('application/json');
    expect(result.body).toEqual({ method: 'POST', got: { a: 1 }, type: 'application/json' });
  });

  it('returns a non-JSON body as text and a 4xx as a result, not a failure', async () => {
    routes.set('/text', (_req, res) => res.writeHead(418, { 'content-type': 'text/plain' }).end('short and stout'));
    const { record } = await run({ url: `${base}/text` });
    expect(record.state).toBe('completed');
    expect(record.result).toMatchObject({ status: 418, body: 'short and stout' });
  });

  it('retries a 5xx and completes on the attempt that gets a 200', async () => {
    let calls = 0;
    routes.set('/flaky', (req, res) => (++calls < 3 ? json(500, { no: calls })(req, res) : json(200, { yes: calls })(req, res)));
    const { id, record } = await run({ url: `${base}/flaky` }, { attempts: 3, backoff: { type: 'fixed', delay: 50 } });
    expect(record.state).toBe('completed');
    expect(record.attempts).toEqual({ made: 3, max: 3 });
    expect(record.result).toMatchObject({ status: 200, body: { yes: 3 } });
    expect(record.lastError?.message).toMatch(/500/);
    const retrying = watch.of(id).filter((e) => e.event === 'retrying');
    expect(retrying).toHaveLength(2);
    expect(retrying[0].error?.name).toBe('HttpStatusError');
  });

  it('fails with a message naming the status when every attempt gets a 5xx', async () => {
    routes.set('/down', json(503, { down: true }));
    const { record } = await run({ url: `${base}/down` }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    expect(record.state).toBe('failed');
    expect(record.attempts).toEqual({ made: 2, max: 2 });
    expect(record.error?.message).toMatch(/503/);
    expect(hits.filter((h) => h === '/down')).toHaveLength(2);
  });

  it('fails at once, without calling it, a host that is not in HTTP_ALLOWED_HOSTS', async () => {
    const { id, record } = await run({ url: `${otherBase}/` }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    expect(record.state).toBe('failed');
    expect(record.error).toEqual({
      name: 'HostNotAllowedError',
      message: expect.stringMatching(/^host localhost:\d+ is not in HTTP_ALLOWED_HOSTS$/),
    });
    expect(record.attempts.made).toBe(1);
    expect(watch.of(id).some((e) => e.event === 'retrying')).toBe(false);
    expect(otherHits).toBe(0);
  });

  it('follows a redirect within the allowlist', async () => {
    routes.set('/hop', (_req, res) => res.writeHead(302, { location: '/ok2' }).end());
    routes.set('/ok2', json(200, { landed: true }));
    const { record } = await run({ url: `${base}/hop` });
    expect(record.result).toMatchObject({ status: 200, body: { landed: true } });
  });

  it('does not follow a redirect to a host outside the allowlist', async () => {
    routes.set('/away', (_req, res) => res.writeHead(302, { location: `${otherBase}/steal` }).end());
    const { record } = await run({ url: `${base}/away` }, { attempts: 3 });
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('HostNotAllowedError');
    expect(record.error?.message).toMatch(/redirect to host localhost:\d+ is not in HTTP_ALLOWED_HOSTS/);
    expect(record.attempts.made).toBe(1);
    expect(otherHits).toBe(0);
  });

  it('stops after 5 redirects', async () => {
    routes.set('/loop', (_req, res) => res.writeHead(307, { location: '/loop' }).end());
    const { record } = await run({ url: `${base}/loop` });
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('TooManyRedirectsError');
    expect(hits.filter((h) => h === '/loop')).toHaveLength(6);
  });

  it("names only the host of the last redirect when it gives up, never the Location's password or query", async () => {
    const port = new URL(base).port;
    for (let i = 0; i < 5; i++) routes.set(`/chain${i}`, (_req, res) => res.writeHead(302, { location: `/chain${i + 1}` }).end());
    routes.set('/chain5', (_req, res) => res.writeHead(302, { location: `http://u:Secretpw@127.0.0.1:${port}/x?token=Qtoken` }).end());
    const { id, record } = await run({ url: `${base}/chain0` }, { attempts: 1 });
    expect(record.error).toEqual({ name: 'TooManyRedirectsError', message: `more than 5 redirects; the last one to host 127.0.0.1:${port}` });
    // BullMQ's own record of the failure (its failedReason and the stack trace Bull Board shows) too.
    const stored = Object.values(await ctx.redis.hgetall(ctx.keys.job('http.request', id))).join('\n');
    expect(stored).toContain('TooManyRedirectsError');
    expect(stored).not.toMatch(/Secretpw|Qtoken/);
  });

  it('says that a redirect to another scheme is refused for its scheme', async () => {
    routes.set('/to-file', (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
    const { record } = await run({ url: `${base}/to-file` }, { attempts: 1 });
    expect(record.error).toEqual({ name: 'HostNotAllowedError', message: 'redirect to a file: URL; only http and https are followed' });
  });

  it('fails when the response body is over HTTP_MAX_RESPONSE_BYTES', async () => {
    routes.set('/big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(5000));
    });
    const { record } = await run({ url: `${base}/big` }, { attempts: 2 });
    expect(record.state).toBe('failed');
    expect(record.error?.name).toBe('ResponseTooLargeError');
    expect(record.attempts.made).toBe(1);
  });

  it('retries a network error with a message that says what failed', async () => {
    routes.set('/hangup', (req) => req.socket.destroy());
    const { record } = await run({ url: `${base}/hangup` }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    expect(record.state).toBe('failed');
    expect(record.attempts.made).toBe(2);
    expect(record.error?.name).toBe('NetworkError');
    expect(record.error?.message).toMatch(/^request to 127\.0\.0\.1:\d+ failed: /);
    expect(hits.filter((h) => h === '/hangup')).toHaveLength(2);
  });
});
