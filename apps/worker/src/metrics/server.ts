import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerTokenValid } from '@async-jobs/shared';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** API_TOKENS: when any is set, a scrape needs one as a bearer token, as the API's /metrics does. */
  tokens: readonly string[];
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

function answer(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

/**
 * A worker process's `GET /metrics` (WORKER_METRICS_PORT): a bare node:http server, since
 * one read-only route needs no framework. Resolves once it listens; rejects when it
 * cannot (the port is taken), so the worker does not run unwatched by mistake.
 */
export async function serveMetrics(registry: Registry, opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return answer(res, 404, 'not_found', 'only /metrics is served here');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method_not_allowed', 'use GET', { Allow: 'GET, HEAD' });
    const auth = bearerTokenValid(opts.tokens, req.headers.authorization);
    if (auth !== 'ok') {
      return answer(res, 401, 'unauthorized', auth === 'missing' ? 'a bearer token is required' : 'the bearer token is not valid', {
        'WWW-Authenticate': 'Bearer realm="async-jobs"',
      });
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => answer(res, 500, 'internal', 'the metrics could not be collected'),
    );
  });
  // A scraper that keeps its connection open must not hold the worker's shutdown.
  server.keepAliveTimeout = 5000;
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
