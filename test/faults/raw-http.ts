import net from 'node:net';

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One HTTP/1.1 request written byte for byte on a fresh connection (no client
 * normalises the path, checks header values or encodes the body), read until the
 * server closes it. For requests that fetch() refuses to send.
 */
export function rawRequest(port: number, head: string | Buffer, body: Buffer = Buffer.alloc(0), timeoutMs = 10000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {}); // a reset after the answer was sent is fine; judged on 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no HTTP answer (${raw.length} bytes)`));
      const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let rest: Buffer = raw.subarray(end + 4);
      if (headers['transfer-encoding'] === 'chunked') rest = unchunk(rest);
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest });
    });
    // No half-close: Node's HTTP server would drop a request whose client ended its side.
    // `Connection: close` makes the server close once it has answered.
    socket.write(Buffer.concat([Buffer.isBuffer(head) ? head : Buffer.from(head, 'latin1'), body]));
  });
}

function unchunk(buf: Buffer): Buffer {
  // Enough for the answers here: sizes in hex, no trailers.
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!size) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** The request head: request line, `Host`, `Connection: close`, a `Content-Length` for the body, then `headers` as given. */
export function requestHead(method: string, target: string, headers: Array<[string, string | Buffer]>, bodyLength: number): Buffer {
  const parts: Buffer[] = [Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, 'latin1')];
  if (bodyLength > 0 || method === 'POST') parts.push(Buffer.from(`Content-Length: ${bodyLength}\r\n`));
  for (const [k, v] of headers) parts.push(Buffer.from(`${k}: `, 'latin1'), Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1'), Buffer.from('\r\n'));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}
