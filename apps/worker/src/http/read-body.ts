import { ResponseTooLargeError } from './errors';

/** Reads a response body, failing as soon as it passes `maxBytes` instead of buffering it all first. */
export async function readBodyCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new ResponseTooLargeError(`response body is larger than HTTP_MAX_RESPONSE_BYTES (${maxBytes} bytes)`);
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** JSON when the server says so and it parses; text otherwise. */
export function decodeBody(buf: Buffer, contentType: string | null): unknown {
  const text = buf.toString('utf8');
  if (contentType && JSON_TYPE.test(contentType) && text.trim() !== '') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
