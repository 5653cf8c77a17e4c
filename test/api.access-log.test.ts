import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@async-jobs/shared';
import { accessLog } from '../apps/api/src/middleware/access-log';

interface Line {
  reqId: number;
  msg: string;
  req: { method: string; url: string };
  res: { status: number | null };
}

/** The access log's lines, as an operator reads them: a real pino logger writing JSON lines. */
const lines: Line[] = [];
const sink = new Writable({
  write(chunk, _encoding, callback) {
    for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text) as Line);
    callback();
  },
});

/** Resolved when a request reaches a route that never answers it on its own. */
let arrived: () => void = () => undefined;
const app = express();
app.use(accessLog(createLogger('access-test', 'info', sink), (req) => req.url === '/healthz'));
app.get('/quick', (_req, res) => void res.json({ ok: true }));
app.get('/boom', (_req, res) => void res.status(500).json({ error: 'boom' }));
app.get('/held', () => arrived());
app.get('/stream', (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/event-stream' });
  res.write('event: state\ndata: {}\n\n');
  arrived();
});
app.get('/healthz', (_req, res) => void res.send('ok'));
const server = createServer(app);
let base = '';

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const lineFor = (url: string) =>
  vi.waitFor(() => {
    const line = lines.find((l) => l.req.url === url);
    if (!line) throw new Error(`no access line for ${url} yet`);
    return line;
  });

/** Starts a GET of `path` that the server holds, waits until it arrived, then gives it up. */
async function abandon(path: string): Promise<void> {
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const abort = new AbortController();
  const request = fetch(`${base}${path}`, { signal: abort.signal }).then((res) => res.body?.getReader().read());
  await reached;
  abort.abort();
  await request.catch(() => undefined);
}

describe('access log', () => {
  it('logs an answered request with its status', async () => {
    await (await fetch(`${base}/quick?x=1`)).arrayBuffer();
    const line = await lineFor('/quick?x=1');
    expect(line).toMatchObject({ msg: 'request completed', req: { method: 'GET' }, res: { status: 200 } });
  });

  it('logs a 5xx as errored', async () => {
    await (await fetch(`${base}/boom`)).arrayBuffer();
    expect(await lineFor('/boom')).toMatchObject({ msg: 'request errored', res: { status: 500 } });
  });

  it('logs a held request the client gave up as aborted, with no status, since none was sent', async () => {
    await abandon('/held?wait=30');
    const line = await lineFor('/held?wait=30');
    expect(line.msg).toBe('request aborted');
    expect(line.res.status).toBeNull();
  });

  it('logs an event stream the client closed as aborted, with the status it was sent', async () => {
    await abandon('/stream');
    expect(await lineFor('/stream')).toMatchObject({ msg: 'request aborted', res: { status: 200 } });
  });

  it('leaves out the requests it is told to ignore', async () => {
    await (await fetch(`${base}/healthz`)).arrayBuffer();
    await (await fetch(`${base}/quick?after=healthz`)).arrayBuffer();
    await lineFor('/quick?after=healthz');
    expect(lines.filter((l) => l.req.url === '/healthz')).toEqual([]);
  });
});
