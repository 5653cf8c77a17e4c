import type { RequestHandler } from 'express';
import { openApiPath } from '../openapi/path-params';
import { validationFailed } from './validate';

interface Parameter {
  name: string;
  in: string;
}

/** The query parameters an OpenAPI operation declares. */
export const declaredQuery = (operation: Readonly<Record<string, unknown>>): string[] =>
  ((operation.parameters ?? []) as Parameter[]).filter((p) => p.in === 'query').map((p) => p.name);

/** `GET /jobs/{id}`: a route as the docs and the OpenAPI document write it. */
export const routeName = (method: string, path: string) => `${method.toUpperCase()} ${openApiPath(path)}`;

/**
 * 400 validation_failed for a query parameter that `operation` (the route's OpenAPI entry)
 * does not declare, as its body's unknown fields are refused, and for one given twice. An
 * ignored parameter fails silently: `GET /jobs/{id}?wait=10` answered at once, where the
 * caller meant the long-poll of `GET /jobs/{id}/result?wait=10`; so the answer also names
 * the routes that do take it (`routesTaking`: parameter name to routes).
 */
export function onlyDeclaredQuery(
  method: string,
  path: string,
  operation: Readonly<Record<string, unknown>>,
  routesTaking: ReadonlyMap<string, readonly string[]>,
): RequestHandler {
  const declared = declaredQuery(operation);
  const route = routeName(method, path);
  const takes = declared.length > 0 ? `it takes ${declared.join(', ')}` : 'it takes none';
  const problem = (name: string) => {
    const others = routesTaking.get(name) ?? [];
    const elsewhere = others.length > 0 ? `; ${others.join(' and ')} ${others.length > 1 ? 'take' : 'takes'} it` : '';
    return { path: name, message: `${route} has no query parameter "${name}" (${takes}${elsewhere})` };
  };
  return (req, _res, next) => {
    // Express parses the query string anew on each read of req.query: not at all without one.
    if (!req.url.includes('?')) return next();
    const query = req.query;
    const problems = [];
    for (const name of Object.keys(query)) {
      if (!declared.includes(name)) problems.push(problem(name));
      // Every parameter here takes one value: which of two was meant is not for the API to guess.
      else if (Array.isArray(query[name])) problems.push({ path: name, message: `${name} is given ${query[name].length} times; give it once` });
    }
    next(problems.length > 0 ? validationFailed(problems, 'the query') : undefined);
  };
}
