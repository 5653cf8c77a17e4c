/** The longest job log line, in UTF-8 bytes (docs/http-api.md "GET /jobs/{id}/logs": at most 2 KB). */
export const MAX_LOG_LINE_BYTES = 2048;

/**
 * A log line as it is stored: a longer one is cut (not refused: `ctx.log` never fails a
 * job) and says so at its end, `… [truncated, N bytes]` with N the original length, the
 * whole within MAX_LOG_LINE_BYTES and never splitting a character.
 */
export function logLine(message: string): string {
  const bytes = Buffer.byteLength(message);
  if (bytes <= MAX_LOG_LINE_BYTES) return message;
  const tail = `… [truncated, ${bytes} bytes]`;
  let room = MAX_LOG_LINE_BYTES - Buffer.byteLength(tail);
  const buf = Buffer.from(message);
  // Back off to the start of a character: continuation bytes are 10xxxxxx.
  while (room > 0 && (buf[room] & 0xc0) === 0x80) room--;
  return buf.subarray(0, room).toString('utf8') + tail;
}
