import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { useApi } from './system-harness';

/** http.request data that no attempt could ever send: refused at submit, not failed at run time attempt after attempt. */
const sys = useApi({ HTTP_ALLOWED_HOSTS: 'example.org,api.example.com:8443' });

const submit = (data: unknown) => call(sys.api.url, 'POST', '/jobs', { type: 'http.request', data });

describe('POST /jobs of http.request data that cannot be sent', () => {
  it('refuses a host outside HTTP_ALLOWED_HOSTS (400), with the port it would call, and writes nothing', async () => {
    const before = await sys.ctx.requestKeys();
    for (const [url, host] of [
      ['https://elsewhere.example.net/x', 'elsewhere.example.net:443'],
      ['http://api.example.com/', 'api.example.com:80'],
      ['http://[::1]:8443/', '[::1]:8443'],
    ]) {
      const r = await submit({ url });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'validation_failed' });
      expect(r.body.error.details).toEqual([{ path: 'data.url', message: `host ${host} is not in HTTP_ALLOWED_HOSTS` }]);
    }
    // In a batch, the item is named, and none of the batch is written.
    const batch = await call(sys.api.url, 'POST', '/jobs/batch', {
      jobs: [
        { type: 'http.request', data: { url: 'https://api.example.com:8443/ok' } },
        { type: 'http.request', data: { url: 'https://api.example.com/not-this-port' } },
      ],
    });
    expect(batch.status).toBe(400);
    expect(batch.body.error.details).toEqual([{ index: 1, path: 'jobs.1.data.url', message: 'host api.example.com:443 is not in HTTP_ALLOWED_HOSTS' }]);
    expect((await sys.ctx.requestKeys()).sort()).toEqual(before.sort());
    // Listed hosts, any port for a bare name, the given port for host:port.
    for (const url of ['https://example.org/', 'http://EXAMPLE.org:8080/', 'https://api.example.com:8443/v1']) expect((await submit({ url })).status).toBe(202);
  });

  it('refuses a URL with credentials in it (400), without repeating them, and writes nothing', async () => {
    const before = (await sys.ctx.requestKeys()).length;
    const r = await submit({ url: 'https://user:Hunter2secret@example.org/x' });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([
      { path: 'data.url', message: 'a URL with credentials (user:password@) is refused; send them in a header (authorization)' },
    ]);
    expect(JSON.stringify(r.body)).not.toContain('Hunter2secret');
    expect((await sys.ctx.requestKeys()).length).toBe(before);
  });

  it('refuses a header value holding CR or LF (400), naming the header, and writes nothing', async () => {
    const before = (await sys.ctx.requestKeys()).length;
    const r = await submit({ url: 'https://example.org/', headers: { 'x-note': 'a\r\nSet-Cookie: x=1' } });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([{ path: 'data.headers.x-note', message: expect.stringMatching(/CR, LF or NUL/) }]);
    expect((await sys.ctx.requestKeys()).length).toBe(before);
  });

  it('refuses headers the HTTP client writes itself (400), naming each, and writes nothing', async () => {
    const before = (await sys.ctx.requestKeys()).length;
    const headers = { 'Content-Length': '1', 'transfer-encoding': 'chunked', host: 'other.example', expect: '100-continue', 'x-fine': 'ok' };
    const r = await submit({ url: 'https://example.org/', method: 'POST', body: 'abc', headers });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual(
      ['Content-Length', 'transfer-encoding', 'host', 'expect'].map((name) => ({
        path: `data.headers.${name}`,
        message: `${name} is written by the HTTP client from the URL and the body; leave it out`,
      })),
    );
    expect((await sys.ctx.requestKeys()).length).toBe(before);
  });

  it('refuses a header name that is not an HTTP token (400)', async () => {
    const r = await submit({ url: 'https://example.org/', headers: { 'x note': '1' } });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toEqual([
      {
        path: 'data.headers.x note',
        message: "data.headers.x note: the field name is refused: a header name must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
      },
    ]);
  });

  it('lists a body on a GET beside the other problems of the same data', async () => {
    const r = await submit({ url: 42, body: 'q', headers: { 'x-a': 'one\r\ntwo' } });
    expect(r.status).toBe(400);
    expect(r.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['data.body', 'data.headers.x-a', 'data.url']);
  });

  it('refuses a body on a GET or a HEAD (400), and takes one on a POST', async () => {
    for (const method of ['GET', 'HEAD']) {
      const r = await submit({ url: 'https://example.org/', method, body: { q: 1 } });
      expect(r.status).toBe(400);
      expect(r.body.error.details).toEqual([{ path: 'data.body', message: `a ${method} request has no body` }]);
    }
    expect((await submit({ url: 'https://example.org/', method: 'POST', body: { q: 1 }, headers: { 'x-ok': 'fine' } })).status).toBe(202);
  });
});
