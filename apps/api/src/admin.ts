import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { isLoopbackHost, unavailable, type Config } from '@async-jobs/shared';
import type { Queue } from 'bullmq';
import type { Express, RequestHandler } from 'express';
import helmet from 'helmet';
import { fontFiles, renderWithLocalFonts } from './admin-fonts';
import { basicAuth } from './middleware/auth';

export const ADMIN_PATH = '/admin/queues';

/**
 * The pages' hardening headers without their script rules (the Board ships inline scripts):
 * above all no framing by another site, since its buttons remove and retry jobs with the
 * operator's cached credentials.
 */
const boardHeaders = helmet({
  strictTransportSecurity: false,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: helmet.contentSecurityPolicy.dangerouslyDisableDefaultSrc, frameAncestors: ["'self'"] },
  },
});

/**
 * Bull Board behind Basic auth. Without a password it is open only where the API is open
 * too: no API_TOKENS, and a loopback HOST (local development) or ALLOW_INSECURE; otherwise
 * it stays closed (and main.ts refuses to start on a public HOST without credentials).
 */
export function adminRouter(config: Config, queues: Queue[], queuesReady: () => boolean, afterWrite: () => void = () => {}): RequestHandler[] {
  const serverAdapter = new ExpressAdapter().setBasePath(ADMIN_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'async-jobs' } },
  });
  const board = serverAdapter.getRouter() as Express;
  // The Board's own Express app says what serves it again, which the API's app does not.
  board.disable('x-powered-by');
  // No page of ours may ask another host for anything: its fonts come from here.
  renderWithLocalFonts(board);
  // An operator's write (empty, clean, remove) can drop jobs without an event per job in
  // BullMQ's stream: whoever waits on a job, in any API process, reads it again once the
  // Board has answered (events/resync.ts).
  const watched: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') res.on('finish', afterWrite);
    board(req, res, next);
  };
  // The Board's API reads and writes through the queues, which wait for Redis rather than fail:
  // while their connection is down it answers 503 at once, as the API's routes do (the
  // app's error handler writes it). Its page and assets need no Redis.
  const redisReady: RequestHandler = (req, _res, next) => next(req.path.startsWith('/api/') && !queuesReady() ? unavailable() : undefined);
  const router: RequestHandler[] = [boardHeaders, fontFiles, redisReady, watched];
  if (config.ADMIN_PASSWORD) return [basicAuth(config.ADMIN_USERNAME, config.ADMIN_PASSWORD), ...router];
  // Open only where the API is too: with API_TOKENS set, an open Board would show every job's
  // data (headers with credentials among it) to anyone who reaches the port, a proxy on loopback included.
  if ((isLoopbackHost(config.HOST) || config.ALLOW_INSECURE) && config.API_TOKENS.length === 0) return router;
  return [basicAuth(config.ADMIN_USERNAME, '\0never', 'Bull Board needs ADMIN_PASSWORD to be set on this server')];
}
