// Follows one job to its end: the SSE stream when the server has it, else (long-)polling of /result.
import { api, ApiError, headers } from './api.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A browser opens at most 6 HTTP/1.1 connections per origin; a stream or a long-poll
 * holds one. Only this many jobs are followed that way at once, so the page can still
 * submit; the others poll plainly until a slot frees up.
 */
const MAX_HELD = 3;
let held = 0;

/**
 * Calls onUpdate(partial job) as things change and resolves with the final job resource.
 * EventSource cannot send an Authorization header, so the stream is read with fetch.
 */
export async function watchJob(id, onUpdate) {
  for (;;) {
    if (held < MAX_HELD) {
      held++;
      try {
        return await followHeld(id, onUpdate);
      } finally {
        held--;
      }
    }
    const done = await pollOnce(id, onUpdate, 0);
    if (done) return done;
  }
}

async function followHeld(id, onUpdate) {
  try {
    await followEvents(id, onUpdate);
  } catch {
    // No stream (older server, proxy) or it broke: polling below still reaches the end.
  }
  for (;;) {
    const done = await pollOnce(id, onUpdate, 10);
    if (done) return done;
  }
}

async function followEvents(id, onUpdate) {
  const response = await fetch(`/jobs/${encodeURIComponent(id)}/events`, {
    headers: headers({ Accept: 'text/event-stream' }),
  });
  if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { type: 'message', data: '' };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (dispatch(event, onUpdate)) {
          await reader.cancel();
          return;
        }
        event = { type: 'message', data: '' };
      } else if (line.startsWith('event:')) event.type = line.slice(6).trim();
      else if (line.startsWith('data:')) event.data += (event.data ? '\n' : '') + line.slice(5).trimStart();
    }
  }
}

/** Shows one event; true when it was the last one. */
function dispatch(event, onUpdate) {
  let data = {};
  try {
    data = event.data ? JSON.parse(event.data) : {};
  } catch {
    return false;
  }
  const state = TERMINAL.has(event.type) ? event.type : data.state;
  onUpdate({ ...data, ...(state ? { state } : {}) });
  return TERMINAL.has(state);
}

/**
 * One ask of /result: 200 once terminal, else 202 + Retry-After. `wait` lets a
 * long-polling server hold the request. Resolves the job when terminal, else null
 * (after waiting out what is left of Retry-After).
 */
async function pollOnce(id, onUpdate, wait) {
  const started = Date.now();
  const { status, body, response } = await api(`/jobs/${encodeURIComponent(id)}/result?wait=${wait}`);
  onUpdate(body);
  if (status === 200 || TERMINAL.has(body?.state)) return body;
  if (status !== 202) throw new ApiError(status, body);
  const retryAfter = Number(response.headers.get('retry-after')) || 1;
  await sleep(Math.max(0, retryAfter * 1000 - (Date.now() - started)));
  return null;
}
