import type { Config } from '@async-jobs/shared';

/** Why the API could not listen on HOST:PORT, as a sentence that says what to change. */
export function listenFailure(err: NodeJS.ErrnoException, config: Pick<Config, 'HOST' | 'PORT'>): string {
  const { HOST: host, PORT: port } = config;
  const other = port === 65535 ? 3001 : port + 1;
  switch (err.code) {
    case 'EADDRINUSE':
      return `Cannot start the API: port ${port} on ${host} is already in use (by another API, or another program). Stop that, or choose another port with PORT, e.g. PORT=${other} npm start.`;
    case 'EACCES':
      return `Cannot start the API: this user may not listen on port ${port} (ports below 1024 need privileges). Choose another port with PORT, e.g. PORT=3000.`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `Cannot start the API: HOST=${host} is not an address of this machine. Set HOST to one of its addresses (127.0.0.1 for this machine only, 0.0.0.0 for all).`;
    default:
      return `Cannot start the API on ${host}:${port}: ${err.message}`;
  }
}
