import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** What Node's HTTP parser refuses before Express sees a request, by its error code. */
function answerFor(code: string | undefined): { status: number; reason: string; body: { code: string; message: string } } {
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

/**
 * Answers requests that Node's HTTP parser refuses (headers over 16 KB, bytes that
 * are not HTTP) in the API's error format instead of Node's empty reply, then
 * closes the connection: after a parse error the stream cannot be trusted.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, reason, body } = answerFor(err.code);
    const json = JSON.stringify({ error: body });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  });
}
