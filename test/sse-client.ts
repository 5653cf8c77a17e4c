export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Reads a whole event stream until the server ends it (or `signal` aborts); comments (heartbeats) are skipped. */
export async function readStream(url: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  const text = await res.text();
  const events = text
    .split('\n\n')
    .map(parseBlock)
    .filter((e): e is SseEvent => e !== null);
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}

/** One event block of a stream, or null for a blank block or a comment (heartbeat). */
export function parseBlock(block: string): SseEvent | null {
  if (!block.trim() || block.startsWith(':')) return null;
  const e: SseEvent = { event: 'message', data: '' };
  for (const line of block.split('\n')) {
    const i = line.indexOf(': ');
    const [k, v] = i >= 0 ? [line.slice(0, i), line.slice(i + 2)] : [line, ''];
    if (k === 'id') e.id = v;
    else if (k === 'event') e.event = v;
    else if (k === 'data') e.data = JSON.parse(v);
  }
  return e;
}
