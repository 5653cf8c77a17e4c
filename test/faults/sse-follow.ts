import { parseBlock, type SseEvent } from '../sse-client';

export interface Followed {
  status: number;
  events: SseEvent[];
  /** How the stream stopped: the server ended it, or the connection broke. */
  end: 'ended' | 'broken';
}

/**
 * Reads an event stream as it arrives, so that events received before a broken
 * connection are kept (sse-client.ts's readStream waits for the whole body); `onEvent`
 * hears each one as it comes.
 */
export async function followStream(url: string, headers: Record<string, string> = {}, onEvent?: (e: SseEvent) => void): Promise<Followed> {
  const events: SseEvent[] = [];
  let status = 0;
  let buffer = '';
  const take = () => {
    for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const e = parseBlock(block);
      if (e) {
        events.push(e);
        onEvent?.(e);
      }
    }
  };
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } });
    status = res.status;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      take();
    }
    return { status, events, end: 'ended' };
  } catch {
    return { status, events, end: 'broken' };
  }
}
