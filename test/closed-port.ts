import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/** A local port that nothing listens on (it did a moment ago): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}
