import type { Request, RequestHandler, Response } from 'express';
import { validationFailed } from './middleware/validate';

/**
 * What a route handler sees of its request. Plain data and one hook, so handlers do not
 * know Express: they read this, return an HttpReply or throw an HttpError.
 */
export interface HttpRequest {
  readonly params: Readonly<Record<string, string>>;
  /** Unparsed: each handler parses its query with its schema. */
  readonly query: unknown;
  /** JSON, once the route's body middleware read it; undefined on routes without one. */
  readonly body: unknown;
  /** The header's value; a header sent more than once is a 400 (validation_failed). */
  header(name: string): string | undefined;
  /**
   * Calls `fn` when the connection closes, whether the client went away or the answer was
   * sent; returns how to stop listening. A held request (long-poll) stops holding on it.
   */
  onClose(fn: () => void): () => void;
}

/** A handler's answer: status 200 unless given; `body` sent as JSON, `text` as it is; neither for a 204. */
export interface HttpReply {
  status?: number;
  headers?: Readonly<Record<string, string>>;
  body?: unknown;
  text?: string;
}

export type RouteHandler = (req: HttpRequest) => Promise<HttpReply> | HttpReply;

/**
 * The request as a handler sees it. A class, not an object of closures, and serve() below
 * holds no async frame of its own: both are per request, and 10,000 held long-polls hold
 * 10,000 of each (the waiters benchmark's RSS bound).
 */
class ExpressRequest implements HttpRequest {
  constructor(
    private readonly req: Request,
    private readonly res: Response,
  ) {}
  get params() {
    return this.req.params as Record<string, string>;
  }
  get query() {
    return this.req.query;
  }
  get body() {
    return this.req.body;
  }
  header(name: string) {
    const value = this.req.get(name);
    // Node joins a repeated header into one ("a, b"): which one was meant is not for the API to guess.
    // Only a value with a comma can be two, so the raw lines are counted only then.
    if (value?.includes(',')) {
      const raw = this.req.rawHeaders;
      let given = 0;
      for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name.toLowerCase()) given++;
      if (given > 1) throw validationFailed([{ path: name, message: `${name} is given ${given} times; give it once` }], 'the headers');
    }
    return value;
  }
  onClose(fn: () => void) {
    // Closed already (the client left while the handler awaited Redis): 'close' has been
    // emitted and will not come again, so a wait would otherwise run its whole length.
    if (this.res.closed) {
      fn();
      return () => undefined;
    }
    // The response's close, not the request's: a request whose body has been read closes at once.
    // on/off rather than once: once() wraps the listener in a bound function and a state object, per held request.
    const res = this.res.on('close', fn);
    return () => res.off('close', fn);
  }
}

/**
 * Throws only where JSON.stringify would (a body JSON cannot hold): serve() hands that to next().
 * A JSON body is written straight to Node's response, not through Express's res.json: that
 * hashed every body for an ETag no route uses (none answers conditional requests), and with
 * its other steps cost about a tenth of the API's CPU while it answered 10,000 held long-polls
 * at once (profile of the waiters benchmark; the socket writes themselves were another 15 %).
 */
function write(res: Response, reply: HttpReply): void {
  if (res.destroyed) return;
  res.statusCode = reply.status ?? 200;
  if (reply.headers) for (const name of Object.keys(reply.headers)) res.setHeader(name, reply.headers[name]);
  if (reply.text !== undefined) {
    res.send(reply.text);
    return;
  }
  if (reply.body === undefined) {
    res.end();
    return;
  }
  const json = JSON.stringify(reply.body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  // For HEAD (served by the GET routes) Node sends these headers and drops the body itself.
  res.end(json);
}

/**
 * Serves `handler` on Express: its reply is written here, and what it throws goes to the
 * error middleware (middleware/error-handler.ts), which writes an HttpError's status and
 * code. A reply for a client that went away meanwhile (a long-poll it dropped) is not written.
 */
export function serve(handler: RouteHandler): RequestHandler {
  return (req, res, next) => {
    let reply: Promise<HttpReply> | HttpReply;
    try {
      reply = handler(new ExpressRequest(req, res));
    } catch (err) {
      return next(err);
    }
    if (!(reply instanceof Promise)) return write(res, reply);
    reply.then((r) => {
      try {
        write(res, r);
      } catch (err) {
        next(err);
      }
    }, next);
  };
}
