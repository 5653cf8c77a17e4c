import { seedRoutes } from '@async-jobs/seed';
import type { RequestHandler } from 'express';
import type { AppContext } from './deps';
import { bearerAuth } from './middleware/auth';
import { jsonBody, noBody } from './middleware/json-body';
import { declaredQuery, onlyDeclaredQuery, routeName } from './middleware/query-params';
import { serve } from './route-handler';
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
import { flowOperations } from './openapi/operations-flows';
import { jobLogOperations } from './openapi/operations-job-logs';
import { jobOperations } from './openapi/operations-jobs';
import { scheduleOperations } from './openapi/operations-schedules';
import { serviceOperations } from './openapi/operations-service';
import { workerOperations } from './openapi/operations-workers';

/** An operation of the OpenAPI document: what the route's entry says about it. */
export type Operation = Readonly<Record<string, unknown>>;

/** The handlers a route's entry picks from; built once per app (some share state, e.g. the job routes). */
interface Handlers {
  ctx: AppContext;
  body: RequestHandler[];
  jobs: ReturnType<typeof jobRoutes>;
  health: ReturnType<typeof healthRoutes>;
  seed: ReturnType<typeof seedRoutes>;
  schedules: ReturnType<typeof scheduleRoutes>;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  /** Whether API_TOKENS guards this route. */
  auth: boolean;
  /** Its operation in the OpenAPI document (null: static files, not part of the API). */
  doc: Operation | null;
  /**
   * Query parameters the operation does not declare are ignored rather than refused (400):
   * the page, probes, the scrape and the demo links, which browsers, load balancers and
   * scrapers call with parameters of their own (a cache-buster, say).
   */
  anyQuery?: true;
  /**
   * The route's middleware and handler. An API handler is `serve(handler)`: it gets an
   * HttpRequest and returns an HttpReply (route-handler.ts), knowing nothing of Express. The
   * page, its assets, the docs, the event stream and the article's demos stay Express
   * middleware: they send files, a stream or redirects.
   */
  handlers(h: Handlers): RequestHandler[];
}

export interface RouteDef extends Omit<RouteSpec, 'handlers'> {
  handlers: RequestHandler[];
}

/**
 * Every route, its method, its guard and its operation, in one table: the app serves it
 * and the OpenAPI document is built from it (openapi/document.ts), so neither can list a
 * route the other lacks.
 */
export const routeSpecs: readonly RouteSpec[] = [
  // The page and its assets are public (docs/http-api.md); they hold no data, the token is typed into the page.
  { method: 'get', path: '/', auth: false, anyQuery: true, doc: serviceOperations.indexPage, handlers: () => pageRoutes.index },
  { method: 'get', path: '/assets/{*file}', auth: false, doc: null, handlers: () => pageRoutes.assets },
  { method: 'get', path: '/healthz', auth: false, anyQuery: true, doc: serviceOperations.health, handlers: (h) => [serve(h.health.health)] },
  { method: 'get', path: '/readyz', auth: false, anyQuery: true, doc: serviceOperations.ready, handlers: (h) => [serve(h.health.ready)] },
  // Guarded like the API itself: they describe it, and /metrics shows its traffic.
  { method: 'get', path: '/metrics', auth: true, anyQuery: true, doc: serviceOperations.metrics, handlers: (h) => [serve(metricsRoutes(h.ctx).scrape)] },
  { method: 'get', path: '/openapi.json', auth: true, anyQuery: true, doc: serviceOperations.openapi, handlers: () => [docsRoutes.openapi] },
  { method: 'get', path: '/docs', auth: true, anyQuery: true, doc: serviceOperations.docs, handlers: () => docsRoutes.page },
  { method: 'get', path: '/docs/assets/:file', auth: true, doc: null, handlers: () => docsRoutes.asset },
  { method: 'get', path: '/types', auth: true, doc: serviceOperations.listTypes, handlers: (h) => [serve(typeListRoute(h.ctx))] },
  // No body: the type is in the path (one that is sent must still be JSON, or it is 415).
  {
    method: 'post',
    path: '/types/:type/pause',
    auth: true,
    doc: serviceOperations.pauseType,
    handlers: (h) => [noBody, serve(typePauseRoute(h.ctx, 'pause'))],
  },
  {
    method: 'post',
    path: '/types/:type/resume',
    auth: true,
    doc: serviceOperations.resumeType,
    handlers: (h) => [noBody, serve(typePauseRoute(h.ctx, 'resume'))],
  },
  {
    method: 'post',
    path: '/types/:type/retry-failed',
    auth: true,
    doc: serviceOperations.retryFailedOfType,
    handlers: (h) => [noBody, serve(typeRetryFailedRoute(h.ctx))],
  },
  { method: 'get', path: '/workers', auth: true, doc: workerOperations.listWorkers, handlers: (h) => [serve(workersRoute(h.ctx))] },
  { method: 'post', path: '/jobs', auth: true, doc: jobOperations.submitJob, handlers: (h) => [...h.body, serve(h.jobs.submit)] },
  { method: 'get', path: '/jobs', auth: true, doc: jobOperations.listJobs, handlers: (h) => [serve(listRoute(h.ctx))] },
  { method: 'post', path: '/jobs/batch', auth: true, doc: jobOperations.submitBatch, handlers: (h) => [...h.body, serve(batchRoute(h.ctx))] },
  { method: 'post', path: '/flows', auth: true, doc: flowOperations.submitFlow, handlers: (h) => [...h.body, serve(flowRoute(h.ctx))] },
  // No body: the job is retried as it was submitted (one that is sent must still be JSON, or it is 415).
  { method: 'post', path: '/jobs/:id/retry', auth: true, doc: jobOperations.retryJob, handlers: (h) => [noBody, serve(retryRoute(h.ctx))] },
  { method: 'get', path: '/jobs/:id', auth: true, doc: jobOperations.getJob, handlers: (h) => [serve(h.jobs.get)] },
  { method: 'get', path: '/jobs/:id/result', auth: true, doc: jobOperations.getJobResult, handlers: (h) => [serve(h.jobs.result)] },
  { method: 'get', path: '/jobs/:id/events', auth: true, doc: jobOperations.streamJobEvents, handlers: (h) => [jobEventsRoute(h.ctx)] },
  { method: 'get', path: '/jobs/:id/logs', auth: true, doc: jobLogOperations.getJobLogs, handlers: (h) => [serve(jobLogsRoute(h.ctx))] },
  { method: 'delete', path: '/jobs/:id', auth: true, doc: jobOperations.cancelJob, handlers: (h) => [serve(jobCancelRoute(h.ctx))] },
  { method: 'get', path: '/schedules', auth: true, doc: scheduleOperations.listSchedules, handlers: (h) => [serve(h.schedules.list)] },
  { method: 'put', path: '/schedules/:name', auth: true, doc: scheduleOperations.putSchedule, handlers: (h) => [...h.body, serve(h.schedules.put)] },
  { method: 'get', path: '/schedules/:name', auth: true, doc: scheduleOperations.getSchedule, handlers: (h) => [serve(h.schedules.get)] },
  { method: 'delete', path: '/schedules/:name', auth: true, doc: scheduleOperations.deleteSchedule, handlers: (h) => [serve(h.schedules.remove)] },
  // The article's demo links write to Redis, so API_TOKENS guards them like any other write.
  // A plain click works when no tokens are set; with tokens, the index page's script turns
  // the click into a fetch carrying the Bearer token. No JSON body is needed (a bare form POST works).
  { method: 'get', path: '/prodcons', auth: true, anyQuery: true, doc: serviceOperations.prodconsGet, handlers: (h) => [h.seed.prodcons] },
  { method: 'post', path: '/prodcons', auth: true, anyQuery: true, doc: serviceOperations.prodconsPost, handlers: (h) => [h.seed.prodcons] },
  { method: 'get', path: '/pubsub', auth: true, anyQuery: true, doc: serviceOperations.pubsubGet, handlers: (h) => [h.seed.pubsub] },
  { method: 'post', path: '/pubsub', auth: true, anyQuery: true, doc: serviceOperations.pubsubPost, handlers: (h) => [h.seed.pubsub] },
];

/** The table with each route's handlers made for this app. */
export function routeTable(ctx: AppContext): RouteDef[] {
  const h: Handlers = {
    ctx,
    body: jsonBody(ctx.config.MAX_BODY_BYTES),
    jobs: jobRoutes(ctx),
    health: healthRoutes(ctx),
    seed: seedRoutes(ctx),
    schedules: scheduleRoutes(ctx),
  };
  return routeSpecs.map((spec) => ({ ...spec, handlers: spec.handlers(h) }));
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

/** For each query parameter, the routes of the table that declare it. */
const routesTaking = new Map<string, string[]>();
for (const r of routeSpecs) {
  for (const name of r.doc ? declaredQuery(r.doc) : []) routesTaking.set(name, [...(routesTaking.get(name) ?? []), routeName(r.method, r.path)]);
}

/** The route's handlers behind its token check (when guarded), then its query check (when strict). */
export function guard(ctx: AppContext, route: RouteDef): RequestHandler[] {
  const query = route.doc && !route.anyQuery ? [onlyDeclaredQuery(route.method, route.path, route.doc, routesTaking)] : [];
  return [...(route.auth ? [bearerAuth(ctx.config.API_TOKENS)] : []), ...query, ...route.handlers];
}
