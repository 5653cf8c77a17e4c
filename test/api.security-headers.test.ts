import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { useApi } from './system-harness';

const sys = useApi();

describe('security headers (helmet) on the HTML pages', () => {
  it.each(['/', '/assets/app.js', '/docs', '/docs/assets/init.js'])('sends a same-origin CSP and the usual hardening headers on %s', async (path) => {
    const r = await call(sys.api.url, 'GET', path);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'self'/);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    // HSTS belongs to whatever ends TLS in front of the API, not to a plain-HTTP server.
    expect(r.headers.get('strict-transport-security')).toBeNull();
    expect(r.headers.get('x-powered-by')).toBeNull();
  });

  it('loads only same-origin scripts on the pages that carry the CSP', async () => {
    for (const path of ['/', '/docs']) {
      const html = (await call(sys.api.url, 'GET', path)).body as string;
      const srcs = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
      expect(srcs.length, path).toBeGreaterThan(0);
      for (const src of srcs) expect(src, path).not.toMatch(/^(https?:)?\/\//);
      // Inline scripts would be blocked by script-src 'self'.
      expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/g), path).toBeNull();
    }
  });

  it('leaves Bull Board without that script CSP, since it needs its inline scripts, but keeps other sites from framing it', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const r = await call(sys.api.url, 'GET', path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-security-policy'), path).toBe("frame-ancestors 'self'");
      expect(r.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('x-powered-by'), path).toBeNull();
    }
  });
});
