/** One dispatched event of a text/event-stream, as the HTML standard's parser defines it. */
export interface ServerSentEvent {
  /** The stream's last event id when this event was dispatched (ids carry over to later events). */
  id: string | undefined;
  event: string;
  data: string;
}

/** What the parser reports: events, and the reconnection delay a `retry:` line asks for. */
export type StreamItem = { kind: 'event'; event: ServerSentEvent } | { kind: 'retry'; ms: number };

/**
 * Parses a text/event-stream body (lines ending in CRLF, LF or CR; `field: value` with one
 * optional space; comments start with `:`; an event is dispatched at a blank line, and not
 * at all when it has no data). An event cut off by the end of the stream is dropped, as
 * the standard says: it may be incomplete.
 */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamItem> {
  const decoder = new TextDecoder();
  let lastId: string | undefined;
  let event = '';
  let data: string[] = [];
  let pending = '';
  let first = true;

  function* line(text: string): Generator<StreamItem> {
    if (text === '') {
      if (data.length > 0) yield { kind: 'event', event: { id: lastId, event: event || 'message', data: data.join('\n') } };
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) yield { kind: 'retry', ms: Number(value) };
  }

  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      let text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (first && text) {
        if (text.startsWith('\uFEFF')) text = text.slice(1);
        first = false;
      }
      pending += text;
      // A CR at the very end may be the first half of a CRLF: keep it until more arrives.
      const lines = pending.split(/\r\n|\r(?!$)|\n/);
      pending = lines.pop() ?? '';
      if (done && pending.endsWith('\r')) {
        lines.push(pending.slice(0, -1));
        pending = '';
      }
      for (const l of lines) yield* line(l);
      if (done) return;
    }
  } finally {
    // Stops the download when the consumer leaves early; harmless once the body has ended.
    await reader.cancel().catch(() => {});
  }
}
