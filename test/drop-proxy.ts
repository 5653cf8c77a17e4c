import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface DropProxy {
  url: string;
  /** The head of each request that went through, in order (request line and headers, lower-case names). */
  requests: Array<{ line: string; headers: Record<string, string> }>;
  /** How many connections the proxy cut. */
  cuts: number;
  /** Connections open right now (client side). */
  open(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of `target` that cuts the first `cutFirst` connections once a whole
 * server-sent event (a blank line in the response body) has gone through: a dropped
 * connection in the middle of a stream, as a flaky network or a proxy's idle timeout does it.
 */
export async function startDropProxy(target: string, cutFirst = 1): Promise<DropProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let connections = 0;
  const proxy: DropProxy = {
    url: '',
    requests: [],
    cuts: 0,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const server = createServer((client) => {
    sockets.add(client);
    const cut = ++connections <= cutFirst;
    const upstream = connect(Number(port), hostname);
    let sent = '';
    let received = '';
    client.on('data', (d) => {
      sent += d.toString('latin1');
      for (let end = sent.indexOf('\r\n\r\n'); end >= 0; end = sent.indexOf('\r\n\r\n')) {
        const [line, ...fields] = sent.slice(0, end).split('\r\n');
        const headers = Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf(':')).toLowerCase(), f.slice(f.indexOf(':') + 1).trim()]));
        proxy.requests.push({ line, headers });
        sent = sent.slice(end + 4);
      }
      upstream.write(d);
    });
    let cutting = false;
    upstream.on('data', (d) => {
      if (cutting) return;
      if (!cut) return void client.write(d);
      received += d.toString('latin1');
      const body = received.indexOf('\r\n\r\n');
      if (body < 0 || received.indexOf('\n\n', body + 4) < 0) return void client.write(d);
      // Once this last piece has reached the client's socket, reset the connection under it.
      proxy.cuts++;
      cutting = true;
      client.write(d, () => {
        upstream.destroy();
        client.resetAndDestroy();
      });
    });
    const done = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done).on('error', done);
    upstream.on('close', done).on('error', done);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
