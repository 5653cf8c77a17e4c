import {
  CALLBACK_QUEUE,
  closeQueues,
  createKeyspace,
  createQueues,
  createResultsStore,
  jobTypeNames,
  layoutSpecOf,
  throttle,
  type Config,
  type Logger,
  type RedisClient,
} from '@async-jobs/shared';
import express, { type Express, type Response } from 'express';
import { ADMIN_PATH, adminRouter } from './admin';
import { createNotifier } from './events/notifier';
import { capHeapGrowthWhileHeld } from './events/heap-growth';
import { createStreamFollowers, type StreamFollowers } from './events/stream-followers';
import { announceResync } from './events/resync';
import { createOwnJobs } from './events/own-jobs';
import { createRelay } from './events/relay';
import { createStreamResumes } from './events/stream-resume';
import { cancelBeforeRetries, forgetCancelRequests } from './jobs/cancel-request';
import { httpMetrics } from './metrics/http';
import { createMetrics } from './metrics/registry';
import type { AppContext } from './deps';
import { cors } from './middleware/cors';
import { accessLog } from './middleware/access-log';
import { errorHandler, notFoundRoute } from './middleware/error-handler';
import { rateLimitPerMinute } from './middleware/rate-limit';
import { methodNotAllowed } from './middleware/method-not-allowed';
import { hostRequired } from './client-errors';
import { guard, routeTable, routesByPath } from './routes';

export interface AppDeps {
  config: Config;
  /** A 'command' role connection: fails fast when Redis is down. The caller closes it. */
  redis: RedisClient;
  /**
   * A second 'command' connection, BullMQ's: its queues and flows. Apart from `redis` because
   * BullMQ defines its 64 scripts on the connection it is given, and ioredis copies every
   * script defined on a connection into each pipeline and MULTI made from it: the submits',
   * the relay's and the reads' on `redis` skip that (submits copy BullMQ's add scripts alone,
   * jobs/submit-transaction.ts). The caller closes it.
   */
  queueRedis: RedisClient;
  /** A 'subscriber' role connection for the stream reader's blocking reads. The caller closes it. */
  subscriber: RedisClient;
  logger: Logger;
}

export interface App {
  app: Express;
  context: AppContext;
  /** The process's readers of the event streams (tests hold them back to stage a burst). */
  followers: StreamFollowers;
  /**
   * From now on every answer closes its connection: a client's next request (a long-poll or
   * stream resumed, say) then opens a new one, which a closing server refuses, rather than
   * reaching this process again on a kept-alive socket.
   */
  drain(): void;
  close(): Promise<void>;
}

/** Builds the HTTP app around injected connections; opens no socket of its own. */
export function createApp(deps: AppDeps): App {
  const { config, redis, queueRedis, subscriber, logger } = deps;
  const keys = createKeyspace(config.KEY_NAMESPACE, layoutSpecOf(config));
  const store = createResultsStore({ redis, keys, resultTtlSeconds: config.RESULT_TTL_SECONDS });
  const onQueueError = throttle(5000, (err: Error) => logger.warn({ err: err.message }, 'queue connection error'));
  const queues = createQueues(queueRedis, keys, onQueueError);
  // Its own map: it is not a job type (no /types entry, no metrics by type), but operators see it in Bull Board.
  const callbackQueues = createQueues(queueRedis, keys, onQueueError, [CALLBACK_QUEUE]);
  const callbackQueue = callbackQueues.get(CALLBACK_QUEUE)!;
  // One reader of every queue's event stream (one per group on a Cluster), for the waiters and (while it holds the lease) the relay.
  const followers = createStreamFollowers(subscriber, keys, jobTypeNames, logger, store.defineOn);
  const notifier = capHeapGrowthWhileHeld(createNotifier(followers.all, logger, store));
  const queuesReady = () => queueRedis.status === 'ready';
  const metrics = createMetrics({ queues, typeOfQueue: keys.layout.typeOfQueue, queuesReady, logger });
  const ownJobs = createOwnJobs();
  const relay = createRelay({
    config,
    keys,
    redis,
    followers: followers.all,
    store,
    callbackQueue,
    types: jobTypeNames,
    logger,
    ownJobs,
    onRelayed: metrics.onRelayed,
    onRetries: (jobs) => cancelBeforeRetries({ redis, keys, config }, jobs),
    onRetriedByHand: (jobs) => forgetCancelRequests({ redis, keys, config }, jobs),
  });
  metrics.trackWaiters(() => notifier.watcherCount('poll'));
  metrics.trackStreams(() => notifier.watcherCount('stream'));
  const resumes = createStreamResumes(redis);
  const context: AppContext = { config, keys, redis, queueRedis, logger, store, queues, callbackQueue, notifier, relay, ownJobs, metrics, resumes };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Answers not yet written, so that drain() can have them close their connections too.
  const open = new Set<Response>();
  let draining = false;
  app.use((_req, res, next) => {
    if (draining) res.setHeader('Connection', 'close');
    else {
      open.add(res);
      res.on('close', forgetResponse);
    }
    next();
  });
  function forgetResponse(this: Response) {
    open.delete(this);
  }
  // No route answers conditional requests: an ETag (Express hashes every res.send body) would promise what none keeps.
  app.set('etag', false);
  app.use(httpMetrics(metrics));
  app.use(accessLog(logger, (req) => req.url === '/healthz'));
  app.use(hostRequired);
  // Before the routes: preflights carry no token, and a throttled request should cost nothing.
  app.use(cors(config.CORS_ORIGINS));
  const limiter = rateLimitPerMinute(config.RATE_LIMIT_PER_MINUTE, config.API_TOKENS);
  if (limiter) app.use(limiter);
  for (const [path, routes] of routesByPath(routeTable(context))) {
    const route = app.route(path);
    for (const r of routes) route[r.method](...guard(context, r));
    // Last for its path: any other method on a path we serve is 405, not "no such route" (nor "no such job" for GET /jobs/batch).
    route.all(methodNotAllowed(routes.map((r) => r.method)));
  }
  // The operator pages' address typed short. Beside the Board's mount, not in the route table:
  // it is the Board's, under the Board's guard once there.
  app.get('/admin', (_req, res) => res.redirect(302, ADMIN_PATH));
  app.use(ADMIN_PATH, ...adminRouter(config, [...queues.values(), callbackQueue], queuesReady, announceResync(redis, keys, jobTypeNames, logger)));
  app.use(notFoundRoute);
  app.use(errorHandler(logger));

  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    followers,
    drain: () => {
      draining = true;
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
      open.clear();
    },
    /** Ends open long-polls and streams first, so clients hear a clean end, then the queues. */
    close: () =>
      (closing ??= (async () => {
        const steps = await Promise.allSettled([notifier.close(), relay.close(), closeQueues(queues), closeQueues(callbackQueues)]);
        await followers.close();
        resumes.close();
        for (const s of steps) if (s.status === 'rejected') logger.error({ err: s.reason }, 'close step failed');
      })()),
  };
}
