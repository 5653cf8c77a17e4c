import type { RequestHandler } from 'express';
import type { AppContext } from './deps';
import { bearerAuth } from './middleware/auth';
import { jsonBody } from './middleware/json-body';
import { healthRoutes } from './routes/health';
import { jobRoutes } from './routes/jobs';
import { typeRoutes } from './routes/types';

export interface RouteDef {
  method: 'get' | 'post' | 'delete';
  path: string;
  /** Whether API_TOKENS guards this route. */
  auth: boolean;
  handlers: RequestHandler[];
}

/** Every route, its method and its guard, in one table. */
export function routeTable(ctx: AppContext): RouteDef[] {
  const jobs = jobRoutes(ctx);
  const health = healthRoutes(ctx);
  const body = jsonBody(ctx.config.MAX_BODY_BYTES);
  return [
    { method: 'get', path: '/healthz', auth: false, handlers: [health.health] },
    { method: 'get', path: '/readyz', auth: false, handlers: [health.ready] },
    { method: 'get', path: '/types', auth: true, handlers: [typeRoutes.list] },
    { method: 'post', path: '/jobs', auth: true, handlers: [...body, jobs.submit] },
    { method: 'get', path: '/jobs/:id', auth: true, handlers: [jobs.get] },
    { method: 'get', path: '/jobs/:id/result', auth: true, handlers: [jobs.result] },
  ];
}

export function guard(ctx: AppContext, route: RouteDef): RequestHandler[] {
  return route.auth ? [bearerAuth(ctx.config.API_TOKENS), ...route.handlers] : route.handlers;
}
