import type { Request, RequestHandler, Response } from 'express';

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

function requestOf(req: Request, res: Response): HttpRequest {
  return {
    params: req.params as Record<string, string>,
    query: req.query,
    body: req.body,
    header: (name) => req.get(name),
    onClose(fn) {
      // The response's close, not the request's: a request whose body has been read closes at once.
      // on/off rather than once: once() wraps the listener in a bound function and a state object, per held request.
      res.on('close', fn);
      return () => res.off('close', fn);
    },
  };
}

/**
 * Serves `handler` on Express: its reply is written here, and what it throws goes to the
 * error middleware (middleware/error-handler.ts), which writes an HttpError's status and code. A reply for a
 * client that went away meanwhile (a long-poll it dropped) is not written.
 */
export function serve(handler: RouteHandler): RequestHandler {
  return async (req, res) => {
    const reply = await handler(requestOf(req, res));
    if (res.destroyed) return;
    res.status(reply.status ?? 200);
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    if (reply.text !== undefined) res.send(reply.text);
    else if (reply.body !== undefined) res.json(reply.body);
    else res.end();
  };
}
