import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers';

/** A port with nothing listening on it right now: bind one, note it, close it. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface OwnRedis {
  port: number;
  url: string;
  /** The data folder (AOF); kept across stop() and start(). */
  dir: string;
  running(): boolean;
  /** Starts redis-server on the same port and folder; resolves once it answers PING. */
  start(): Promise<void>;
  /** `SHUTDOWN` (persists, then exits) or SIGKILL; resolves once the process is gone. */
  stop(how?: 'shutdown' | 'kill'): Promise<void>;
  /** Stops it if running and removes its folder. */
  close(): Promise<void>;
}

/**
 * A redis-server owned by one test: its own free port, its own temporary folder,
 * append-only file with fsync on every write, so a SHUTDOWN or a kill loses
 * nothing that was acknowledged. `startNow: false` only reserves the port and folder.
 */
export async function ownRedis(opts: { startNow?: boolean } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'aj-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const ping = async () => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  };

  const handle: OwnRedis = {
    port,
    url,
    dir,
    running: () => child !== null,
    async start() {
      if (child) return;
      const c = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'],
        { stdio: 'ignore' },
      );
      child = c;
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      await waitFor(ping, 10000, 25);
    },
    async stop(how = 'shutdown') {
      const c = child;
      if (!c) return;
      if (how === 'kill') c.kill('SIGKILL');
      else {
        const r = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
        r.on('error', () => {});
        // SHUTDOWN never answers: the connection drops as the server exits.
        await r.call('SHUTDOWN').catch(() => undefined);
        r.disconnect();
      }
      await exited;
      child = null;
    },
    async close() {
      if (child) await handle.stop('kill');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.startNow ?? true) await handle.start();
  return handle;
}
