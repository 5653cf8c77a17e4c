import { closeRedis, createRedis, isCluster, nodeForKey } from '@async-jobs/shared';
import type { Redis } from 'ioredis';
import { preview, type SeedListener, type SeedListenerContext } from './seed-listener';

export interface ListListenerOptions {
  /** How long one BLPOP waits, in seconds (default 1); close() waits at most this long when it cannot unblock it. */
  timeoutSeconds?: number;
}

/**
 * The article's producer-consumer side: BLPOP on the seed list, so that each element
 * is taken by exactly one of the workers that listen (competing consumers).
 * Runs on its own 'blocking' connection: a BLPOP holds its connection while it waits.
 */
export function createListListener(ctx: SeedListenerContext, opts: ListListenerOptions = {}): SeedListener {
  const timeout = opts.timeoutSeconds ?? 1;
  const key = ctx.keys.prodconsList;
  const log = ctx.logger.child({ listener: 'list' });
  const redis = createRedis(ctx.config, 'blocking', log, 'list-listener');
  let consumed = 0;
  let stopping = false;
  let wakeUp = () => {};
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  // This connection's id on the server that holds the list (on a Redis Cluster, the
  // key's master), so close() can end a BLPOP in flight; a reconnect gives a new one.
  let clientId: number | undefined;
  let idServer: Redis | undefined;
  redis.on('close', () => (idServer = clientId = undefined));

  async function loop() {
    log.info({ list: key }, 'list listener started');
    while (!stopping) {
      try {
        // A Cluster knows the key's node once it has the slot map: any command on the key waits for that.
        if (!nodeForKey(redis, key)) await redis.exists(key);
        const server = nodeForKey(redis, key) ?? undefined;
        if (server !== idServer) [clientId, idServer] = [await server?.client('ID'), server];
        if (stopping) break;
        const pending = redis.blpop(key, timeout);
        markReady();
        const popped = await pending;
        if (!popped) continue;
        consumed++;
        const elem = popped[1];
        log.info({ elem: preview(elem) }, `Task get ${preview(elem)}`);
      } catch (err) {
        if (stopping) break;
        log.warn({ err: (err as Error).message }, 'BLPOP failed; trying again');
        // Back off without spinning, but let close() cut the wait short.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  }
  const done = loop();

  let closing: Promise<void> | undefined;
  async function close() {
    stopping = true;
    wakeUp();
    // Never cut the connection under a BLPOP: an element popped on the server whose reply
    // never arrives would be lost. CLIENT UNBLOCK ... TIMEOUT (from the worker's other
    // connection) ends the wait as if it had timed out, popping nothing; failing that,
    // the BLPOP ends by its own timeout. If Redis is gone no reply comes, so stop
    // waiting a little after the timeout.
    // ('wait': a Cluster's node connection that has not been used yet; it connects on this command.)
    const unblocker = nodeForKey(ctx.redis, key);
    const usable = unblocker?.status === 'ready' || unblocker?.status === 'wait';
    if (clientId !== undefined && idServer && usable && sameServer(unblocker, idServer)) {
      unblocker.call('CLIENT', ['UNBLOCK', clientId, 'TIMEOUT']).catch(() => {});
    }
    // One Redis that is not ready has sent no BLPOP (its commands wait unsent, and closeRedis
    // settles them): nothing to wait for. A Cluster's own queue of unsent commands is not
    // settled when it is dropped, so the loop must get past them first.
    if (redis.status === 'ready' || isCluster(redis)) {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout * 1000 + 1000)));
      await Promise.race([done, limit]);
      clearTimeout(timer);
    }
    await closeRedis(redis);
    await done.catch(() => {});
    markReady();
    log.info({ consumed }, 'list listener stopped');
  }

  return {
    name: 'list',
    get consumed() {
      return consumed;
    },
    ready,
    close: () => (closing ??= close()),
  };
}

/** Ids are per server: an id from one node means another client on any other. */
function sameServer(a: Redis, b: Redis): boolean {
  return a.options.host === b.options.host && a.options.port === b.options.port;
}
