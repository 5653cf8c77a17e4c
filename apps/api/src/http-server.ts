import http from 'node:http';
import type { Express } from 'express';

/**
 * An HTTP server for `app` whose requests and responses are created with Express's
 * prototypes. Express otherwise swaps the prototype of every req and res as it arrives
 * (Object.setPrototypeOf) and then adds its properties (params, locals, …); after such a
 * swap V8 gives each object a hidden class of its own, about 1 KB each: 20 MB of heap for
 * 10,000 held long-polls. Born with the prototype Express sets, the swap is a no-op and
 * all requests share their hidden classes. (A class, not Reflect.construct on a function
 * with that prototype: V8 does not share the hidden classes of the latter either.)
 */
export function createServer(app: Express): http.Server {
  class ApiRequest extends http.IncomingMessage {}
  class ApiResponse extends http.ServerResponse {}
  // The chain stays what Express builds (app.request -> Express's request -> IncomingMessage), one level longer.
  Object.setPrototypeOf(ApiRequest.prototype, app.request);
  Object.setPrototypeOf(ApiResponse.prototype, app.response);
  app.request = ApiRequest.prototype as Express['request'];
  app.response = ApiResponse.prototype as Express['response'];
  // No Host is answered by the app, in the error format (client-errors.ts hostRequired), not by Node's empty 400.
  return http.createServer({ IncomingMessage: ApiRequest, ServerResponse: ApiResponse, requireHostHeader: false }, app);
}

/** `app.listen(port, host)`, on the server above. */
export function listen(app: Express, port: number, host: string): http.Server {
  return createServer(app).listen(port, host);
}
