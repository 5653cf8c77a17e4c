import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubServer {
  url: string;
  close(): Promise<void>;
}

/** A real HTTP server answering with `handle`: for what the API does not do today (yet) but the contract allows. */
export async function startStubServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<StubServer> {
  const server = createServer(handle).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
