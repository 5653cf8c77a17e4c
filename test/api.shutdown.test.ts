import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { spawnApi } from './faults/api-process';
import { createTestContext, waitFor } from './helpers';
import { parse, value } from './prometheus-text';

const ctx = createTestContext();
afterAll(() => ctx.cleanup());

/** A GET on `agent`'s one kept-alive socket, as a client library reuses its connection: status and Connection header, or the error's code. */
function get(agent: http.Agent, url: string): Promise<{ status: number; connection: string | undefined; body: any } | { error: string }> {
  return new Promise((resolve) => {
    http
      .get(url, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(text) }));
      })
      .on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

describe('an API process that shuts down (SIGTERM)', () => {
  it('answers a held long-poll at once and closes its connection, so that the client comes back on a new one', async () => {
    const api = await spawnApi(ctx, { SHUTDOWN_GRACE_MS: '10000' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await api.listening;
      await waitFor(async () => (await call(api.url, 'GET', '/readyz')).status === 200);
      const job = (await call(api.url, 'POST', '/jobs', { type: 'echo', data: {}, options: { delay: 600_000 } })).body;
      const held = get(agent, `${api.url}/jobs/${job.id}/result?wait=25`);
      await waitFor(async () => value(parse((await call(api.url, 'GET', '/metrics')).body), 'asyncjobs_longpoll_waiters', {}) === 1);

      api.kill('SIGTERM');
      expect(await held).toMatchObject({ status: 202, connection: 'close', body: { id: job.id, state: 'delayed' } });
      // Before, it came back on the kept-alive socket and was held there for the whole grace period.
      expect(await get(agent, `${api.url}/jobs/${job.id}/result?wait=25`)).toEqual({ error: 'ECONNREFUSED' });
      expect(await api.exited).toBe(0);
    } finally {
      agent.destroy();
      api.kill('SIGKILL');
      await api.exited;
    }
  });
});
