import http from 'node:http';

export interface Reply {
  status: number;
  body: string;
  /** performance.now() when the last byte arrived. */
  doneAt: number;
}

/** One request on `agent` (keep-alive), resolving when the whole body has arrived. */
export function request(agent: http.Agent, url: string, method = 'GET', body?: unknown, timeoutMs = 60000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), doneAt: performance.now() }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A keep-alive agent; `sockets` bounds how many connections it opens. */
export const keepAlive = (sockets = Infinity) => new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: Math.min(sockets, 100000) });
