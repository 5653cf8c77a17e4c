import { seedRoutes } from '@async-jobs/seed';
import type { RequestHandler } from 'express';
import type { AppContext } from './deps';
import { bearerAuth } from './middleware/auth';
import { jsonBody } from './middleware/json-body';
import { docsRoutes } from './routes/docs';
import { flowRoute } from './routes/flows';
import { healthRoutes } from './routes/health';
import { jobCancelRoute } from './routes/job-cancel';
import { jobEventsRoute } from './routes/job-events';
import { jobLogsRoute } from './routes/job-logs';
import { retryRoute } from './routes/job-retry';
import { jobRoutes } from './routes/jobs';
import { batchRoute } from './routes/jobs-batch';
import { listRoute } from './routes/jobs-list';
import { metricsRoutes } from './routes/metrics';
import { pageRoutes } from './routes/page';
import { typePauseRoute } from './routes/type-pause';
import { typeRetryFailedRoute } from './routes/type-retry-failed';
import { typeListRoute } from './routes/types';
import { workersRoute } from './routes/workers';
import { scheduleRoutes } from './routes/schedules';

export interface RouteDef {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  /** Whether API_TOKENS guards this route. */
  auth: boolean;
  handlers: RequestHandler[];
}

/** Every route, its method and its guard, in one table. */
export function routeTable(ctx: AppContext): RouteDef[] {
  const jobs = jobRoutes(ctx);
  const health = healthRoutes(ctx);
  const seed = seedRoutes(ctx);
  const schedules = scheduleRoutes(ctx);
  const body = jsonBody(ctx.config.MAX_BODY_BYTES);
  return [
    // The page and its assets are public (docs/http-api.md); they hold no data, the token is typed into the page.
    { method: 'get', path: '/', auth: false, handlers: pageRoutes.index },
    { method: 'get', path: '/assets/{*file}', auth: false, handlers: pageRoutes.assets },
    { method: 'get', path: '/healthz', auth: false, handlers: [health.health] },
    { method: 'get', path: '/readyz', auth: false, handlers: [health.ready] },
    // Guarded like the API itself: they describe it, and /metrics shows its traffic.
    { method: 'get', path: '/metrics', auth: true, handlers: [metricsRoutes(ctx).scrape] },
    { method: 'get', path: '/openapi.json', auth: true, handlers: [docsRoutes.openapi] },
    { method: 'get', path: '/docs', auth: true, handlers: docsRoutes.page },
    { method: 'get', path: '/docs/assets/:file', auth: true, handlers: docsRoutes.asset },
    { method: 'get', path: '/types', auth: true, handlers: [typeListRoute(ctx)] },
    // No body: the type is in the path.
    { method: 'post', path: '/types/:type/pause', auth: true, handlers: [typePauseRoute(ctx, 'pause')] },
    { method: 'post', path: '/types/:type/resume', auth: true, handlers: [typePauseRoute(ctx, 'resume')] },
    { method: 'post', path: '/types/:type/retry-failed', auth: true, handlers: [typeRetryFailedRoute(ctx)] },
    { method: 'get', path: '/workers', auth: true, handlers: [workersRoute(ctx)] },
    { method: 'post', path: '/jobs', auth: true, handlers: [...body, jobs.submit] },
    { method: 'get', path: '/jobs', auth: true, handlers: [listRoute(ctx)] },
    { method: 'post', path: '/jobs/batch', auth: true, handlers: [...body, batchRoute(ctx)] },
    { method: 'post', path: '/flows', auth: true, handlers: [...body, flowRoute(ctx)] },
    // No body: the job is retried as it was submitted.
    { method: 'post', path: '/jobs/:id/retry', auth: true, handlers: [retryRoute(ctx)] },
    { method: 'get', path: '/jobs/:id', auth: true, handlers: [jobs.get] },
    { method: 'get', path: '/jobs/:id/result', auth: true, handlers: [jobs.result] },
    { method: 'get', path: '/jobs/:id/events', auth: true, handlers: [jobEventsRoute(ctx)] },
    { method: 'get', path: '/jobs/:id/logs', auth: true, handlers: [jobLogsRoute(ctx)] },
    { method: 'delete', path: '/jobs/:id', auth: true, handlers: [jobCancelRoute(ctx)] },
    { method: 'get', path: '/schedules', auth: true, handlers: [schedules.list] },
    { method: 'put', path: '/schedules/:name', auth: true, handlers: [...body, schedules.put] },
    { method: 'get', path: '/schedules/:name', auth: true, handlers: [schedules.get] },
    { method: 'delete', path: '/schedules/:name', auth: true, handlers: [schedules.remove] },
    // The article's demo links write to Redis, so API_TOKENS guards them like any other write.
    // A plain click works when no tokens are set; with tokens, the index page's script turns
    // the click into a fetch carrying the Bearer token. No JSON body is needed (a bare form POST works).
    { method: 'get', path: '/prodcons', auth: true, handlers: [seed.prodcons] },
    { method: 'post', path: '/prodcons', auth: true, handlers: [seed.prodcons] },
    { method: 'get', path: '/pubsub', auth: true, handlers: [seed.pubsub] },
    { method: 'post', path: '/pubsub', auth: true, handlers: [seed.pubsub] },
  ];
}

/**
 * The table's routes by path, paths in the order they first appear: Express tries them
 * in that order, so a literal path (`/jobs/batch`) must come before a pattern that would
 * also match it (`/jobs/:id`). Each path's methods are its `Allow` header.
 */
export function routesByPath(table: readonly RouteDef[]): Map<string, RouteDef[]> {
  const byPath = new Map<string, RouteDef[]>();
  for (const route of table) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  return byPath;
}

export function guard(ctx: AppContext, route: RouteDef): RequestHandler[] {
  return route.auth ? [bearerAuth(ctx.config.API_TOKENS), ...route.handlers] : route.handlers;
}
