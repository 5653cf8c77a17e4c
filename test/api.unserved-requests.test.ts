import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
let api: RunningApi;

beforeAll(async () => {
  api = await startApi(ctx);
});

afterAll(async () => {
  await api.close();
  await ctx.cleanup();
});

/** Sends `head` (and `body`) on a raw socket, as no HTTP client would, and reads the whole answer. */
async function raw(head: string, body = ''): Promise<{ status: number; headers: string; body: any }> {
  const socket = connect(Number(new URL(api.url).port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`${head}\r\n\r\n${body}`);
  let text = '';
  for await (const chunk of socket) text += chunk;
  const at = text.indexOf('\r\n\r\n');
  return { status: Number(text.split(' ')[1]), headers: text.slice(0, at).toLowerCase(), body: JSON.parse(text.slice(at + 4)) };
}

describe('requests Node answers before Express', () => {
  it('answers an HTTP/1.1 request without Host with 400 in the error format', async () => {
    const r = await raw('GET /healthz HTTP/1.1\r\nConnection: close');
    expect(r.status).toBe(400);
    expect(r.headers).toContain('content-type: application/json');
    expect(r.body).toEqual({ error: { code: 'bad_request', message: 'an HTTP/1.1 request needs a Host header' } });
  });

  it('still serves HTTP/1.0 without Host, which does not need one', async () => {
    const socket = connect(Number(new URL(api.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /healthz HTTP/1.0\r\n\r\n');
    let text = '';
    for await (const chunk of socket) text += chunk;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain('{"status":"ok"}');
  });

  it('answers an Expect it does not meet with 417 in the error format, writing nothing', async () => {
    const keysBefore = (await ctx.allKeys()).length;
    const body = JSON.stringify({ type: 'echo', data: {} });
    const r = await raw(
      `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close`,
      body,
    );
    expect(r.status).toBe(417);
    expect(r.body).toEqual({ error: { code: 'expectation_failed', message: "the server meets no Expect but 100-continue, not 'foo'" } });
    expect((await ctx.allKeys()).length).toBe(keysBefore);
  });

  it('answers CONNECT with 405 in the error format instead of closing the connection unanswered', async () => {
    const r = await raw('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443');
    expect(r.status).toBe(405);
    expect(r.body).toEqual({ error: { code: 'method_not_allowed', message: 'CONNECT is not served: this server is not a proxy' } });
  });
});
