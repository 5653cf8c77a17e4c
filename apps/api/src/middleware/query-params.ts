import type { RequestHandler } from 'express';
import { validationFailed } from './validate';

interface Parameter {
  name: string;
  in: string;
}

/**
 * 400 validation_failed for a query parameter that `operation` (the route's OpenAPI entry)
 * does not declare, as its body's unknown fields are refused. An ignored parameter fails
 * silently: `GET /jobs/{id}?wait=10` answered at once, where the caller meant the long-poll
 * of `GET /jobs/{id}/result?wait=10`.
 */
export function onlyDeclaredQuery(method: string, path: string, operation: Readonly<Record<string, unknown>>): RequestHandler {
  const declared = ((operation.parameters ?? []) as Parameter[]).filter((p) => p.in === 'query').map((p) => p.name);
  const route = `${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`;
  const takes = declared.length > 0 ? `it takes ${declared.join(', ')}` : 'it takes none';
  return (req, _res, next) => {
    const unknown = Object.keys(req.query).filter((name) => !declared.includes(name));
    if (unknown.length === 0) return next();
    next(
      validationFailed(
        unknown.map((name) => ({ path: name, message: `${route} has no query parameter "${name}" (${takes})` })),
        'the query',
      ),
    );
  };
}
