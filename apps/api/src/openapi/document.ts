import { appManifest as pkg } from '../app-root';
import { errorResponses, errors } from './responses';
import { ADMIN_PATH } from '../admin';
import { routeSpecs } from '../routes';
import { adminOperation } from './operations-service';
import { openApiPath, pathParams } from './path-params';
import { componentSchemas } from './schemas';

let built: object | undefined;

/**
 * The OpenAPI 3.1 document of every route (docs/http-api.md says the same in prose). Built on first use and kept:
 * nothing in it changes while the process runs.
 */
export function openApiDocument(): object {
  built ??= Object.freeze({
    openapi: '3.1.1',
    info: {
      title: 'async-jobs',
      version: pkg.version,
      description:
        'Submit jobs over HTTP, run them on BullMQ workers, read their results by polling, long-polling or Server-Sent Events. ' +
        'Bodies are JSON; times are ISO 8601 in UTC; ids are opaque. Every 4xx/5xx answer has the `Error` body; a rejected ' +
        'request changes nothing. A query parameter an operation does not list is refused (400), except on the service ' +
        'routes (page, probes, metrics, this document, the docs, the demo links).',
    },
    // Relative: the document is served by the API it describes, wherever that runs.
    servers: [{ url: '/', description: 'The API that serves this document.' }],
    // Bearer applies only when API_TOKENS is set; the open routes say `security: []`.
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'jobs', description: 'Submit, read, wait for, follow, cancel and retry jobs.' },
      { name: 'schedules', description: 'Jobs on a cron or an interval: BullMQ job schedulers whose runs are ordinary jobs.' },
      { name: 'operations', description: 'Probes, metrics and this document.' },
      { name: 'demo', description: 'The index page and the two plain Redis queues (a list, a pub/sub channel) it links to.' },
      { name: 'admin', description: 'Operator pages.' },
    ],
    paths: pathsOfRoutes(),
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'One of the comma-separated API_TOKENS. Required only when API_TOKENS is set.',
        },
        adminBasic: { type: 'http', scheme: 'basic', description: 'ADMIN_USERNAME and ADMIN_PASSWORD.' },
      },
      schemas: componentSchemas(),
      responses: errorResponses,
    },
  });
  return built;
}

/**
 * The document's paths, from the route table (routes.ts): each route's operation under its
 * path in OpenAPI's spelling, with the path's parameters; and Bull Board's page, which
 * admin.ts mounts under its own guard.
 */
function pathsOfRoutes(): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routeSpecs) {
    if (!route.doc) continue;
    const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    const path = openApiPath(route.path);
    paths[path] ??= names.length > 0 ? { parameters: names.map((n) => pathParams[n]) } : {};
    // Every operation that refuses query parameters it does not list (routes.ts, anyQuery) can answer 400.
    const responses = route.doc.responses as Record<string, unknown> | undefined;
    paths[path][route.method] =
      !route.anyQuery && responses && !responses['400'] ? { ...route.doc, responses: { ...errors('BadQuery'), ...responses } } : route.doc;
  }
  paths[ADMIN_PATH] = { get: adminOperation };
  return paths;
}
