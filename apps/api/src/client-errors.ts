import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '@async-jobs/shared';
import type { RequestHandler } from 'express';

/** What Node's HTTP parser refuses before Express sees a request, by its error code. */
function answerFor(code: string | undefined): { status: number; reason: string; body: ErrorBody } {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      reason: 'Request Header Fields Too Large',
      body: { code: 'headers_too_large', message: 'the request headers are larger than the server accepts (16 KB)' },
    };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, reason: 'Request Timeout', body: { code: 'request_timeout', message: 'the request was not received in time' } };
  }
  return { status: 400, reason: 'Bad Request', body: { code: 'bad_request', message: 'the request is not valid HTTP' } };
}

type ErrorBody = { code: ErrorCode; message: string };

/** The error body as the last answer on a connection Node has handed over raw (a parse error, CONNECT). */
function endSocket(socket: Socket, status: number, reason: string, body: ErrorBody): void {
  const json = JSON.stringify({ error: body });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

/** The same through a response object, for what Node answers before Express runs. */
function endResponse(res: ServerResponse, status: number, body: ErrorBody): void {
  const json = JSON.stringify({ error: body });
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), Connection: 'close' }).end(json);
}

/**
 * Answers requests that Node's HTTP parser refuses (headers over 16 KB, bytes that
 * are not HTTP) in the API's error format instead of Node's empty reply, then
 * closes the connection: after a parse error the stream cannot be trusted. So too
 * the two that Node answers before Express, or not at all: an `Expect` other than
 * 100-continue (Node: 417, empty) and CONNECT (Node: the connection closed unanswered).
 */
export function answerClientErrors(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    endResponse(res, 417, {
      code: 'expectation_failed',
      message: `the server meets no Expect but 100-continue, not '${String(req.headers.expect).slice(0, 100)}'`,
    });
  });
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    endSocket(socket, 405, 'Method Not Allowed', { code: 'method_not_allowed', message: 'CONNECT is not served: this server is not a proxy' });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, reason, body } = answerFor(err.code);
    endSocket(socket, status, reason, body);
  });
}

/**
 * HTTP/1.1 requires a Host header. Node's own check answers its absence with an empty 400
 * before Express sees the request, so the server leaves it to this (http-server.ts) and the
 * answer is in the error format.
 */
export const hostRequired: RequestHandler = (req, res, next) => {
  if (req.headers.host !== undefined || req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return next();
  endResponse(res, 400, { code: 'bad_request', message: 'an HTTP/1.1 request needs a Host header' });
};
